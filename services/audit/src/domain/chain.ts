import { createHash } from 'node:crypto';
import type { AuditRow } from './audit-row.js';
import { canonicalJson } from './canonical-json.js';

/** The hash before an org's first row. */
export const GENESIS_HASH: Buffer = Buffer.alloc(32);

/** Where an org's chain stands: the last sequence and its hash (0 and GENESIS_HASH when empty). */
export interface ChainPoint {
  seq: bigint;
  hash: Buffer;
}

/**
 * Every stored field of an audit row, in the form that hashes: integers and timestamps as
 * decimal strings (timestamps in microseconds since the epoch, which is what PostgreSQL keeps),
 * JSON columns as JSON values. The writer builds it from what it inserts, the verifier from
 * what it reads back; if any stored field differs, so do the bytes.
 */
export interface ChainRecord {
  orgId: string;
  orgSeq: bigint;
  eventId: string;
  kind: string;
  occurredAtUs: string;
  recordedAtUs: string;
  source: string;
  product: string | null;
  actor: unknown;
  action: string;
  resource: string;
  decision: string | null;
  reasons: unknown;
  latencyUs: string | null;
  statusCode: string | null;
  requestId: string;
  traceId: string;
  event: unknown;
}

/**
 * The canonical text of a row (chain_v 1): canonical JSON of its fields under their column
 * names, with a version tag so the encoding can change without ambiguity. The writer inserts
 * the row from this very text, so what is stored is what was hashed.
 */
export function canonicalText(r: ChainRecord): string {
  return canonicalJson({
    v: 1,
    org_id: r.orgId,
    org_seq: r.orgSeq.toString(),
    event_id: r.eventId,
    kind: r.kind,
    occurred_at_us: r.occurredAtUs,
    recorded_at_us: r.recordedAtUs,
    source: r.source,
    product: r.product,
    actor: r.actor,
    action: r.action,
    resource: r.resource,
    decision: r.decision,
    reasons: r.reasons,
    latency_us: r.latencyUs,
    status_code: r.statusCode,
    request_id: r.requestId,
    trace_id: r.traceId,
    event: r.event,
  });
}

/** The canonical bytes of a row: the UTF-8 of its canonical text. */
export const canonicalRecord = (r: ChainRecord): Buffer => Buffer.from(canonicalText(r), 'utf8');

/** SHA-256(previous hash || canonical bytes): the hash of the next link. */
export function chainHash(prev: Buffer, canonical: Buffer | string): Buffer {
  const h = createHash('sha256').update(prev);
  return (
    typeof canonical === 'string' ? h.update(canonical, 'utf8') : h.update(canonical)
  ).digest();
}

/** Microseconds since the epoch of a millisecond-precision date, as a decimal string. */
export const micros = (d: Date): string => (BigInt(d.getTime()) * 1000n).toString();

/** The chain record of an audit row about to be written at `seq`, recorded at `recordedAt`. */
export function recordOf(row: AuditRow, seq: bigint, recordedAt: Date): ChainRecord {
  return {
    orgId: row.orgId,
    orgSeq: seq,
    eventId: row.eventId,
    kind: row.kind,
    occurredAtUs: micros(row.occurredAt),
    recordedAtUs: micros(recordedAt),
    source: row.source,
    product: row.product,
    actor: row.actor,
    action: row.action,
    resource: row.resource,
    decision: row.decision,
    reasons: row.reasons,
    latencyUs: row.latencyUs === null ? null : String(row.latencyUs),
    statusCode: row.statusCode === null ? null : String(row.statusCode),
    requestId: row.requestId,
    traceId: row.traceId,
    event: row.event,
  };
}

/** A row with its place in the chain and the canonical text it was hashed (and is stored) as. */
export interface LinkedRow {
  row: AuditRow;
  seq: bigint;
  hash: Buffer;
  canonical: string;
}

/** Links rows after `head`, in order: consecutive sequences, each hash over the previous one. */
export function linkRows(head: ChainPoint, rows: AuditRow[], recordedAt: Date): LinkedRow[] {
  let { seq, hash } = head;
  return rows.map((row) => {
    seq += 1n;
    const canonical = canonicalText(recordOf(row, seq, recordedAt));
    hash = chainHash(hash, canonical);
    return { row, seq, hash, canonical };
  });
}
