import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import { GENESIS_HASH, linkRows, type ChainPoint, type LinkedRow } from '../../domain/chain.js';

/** What one append did. */
export interface AppendResult {
  /** Event ids written now, in chain order. */
  appended: string[];
  /** Event ids that were already in the log (redelivered or republished), or repeated in the batch. */
  duplicates: string[];
  head: ChainPoint;
  /** The sequence of the org's last periodic checkpoint (to tell when the next is due). */
  checkpointSeq: bigint;
}

/** The rows of one INSERT as one JSON array: each row's canonical text, exactly as hashed. */
const recordset = (links: LinkedRow[]): string => `[${links.map((l) => l.canonical).join(',')}]`;

/** Microseconds since the epoch (exact: an interval counts whole microseconds) to timestamptz. */
const at = (field: string) => `'epoch'::timestamptz + (${field} || ' microseconds')::interval`;

/**
 * One INSERT for a whole batch: the database takes every column from the canonical texts (so
 * the stored row cannot drift from the hashed one; the event column keeps the event's canonical
 * text verbatim), and the hashes, in the same order, from a second parameter.
 */
const INSERT = `INSERT INTO events (event_id, org_id, org_seq, kind, occurred_at, recorded_at, source,
    product, actor, action, resource, decision, reasons, latency_us, status_code, request_id,
    trace_id, event, hash, chain_v)
  SELECT event_id, org_id, org_seq, kind, ${at('occurred_at_us')}, ${at('recorded_at_us')}, source,
    product, actor, action, resource, decision, reasons, latency_us, status_code, request_id,
    trace_id, event, h.hash, 1
  FROM ROWS FROM (json_to_recordset($1::json) AS (event_id uuid, org_id text, org_seq bigint,
      kind text, occurred_at_us text, recorded_at_us text, source text, product text, actor jsonb,
      action text, resource text, decision text, reasons jsonb, latency_us bigint,
      status_code integer, request_id text, trace_id text, event json))
    WITH ORDINALITY AS r(event_id, org_id, org_seq, kind, occurred_at_us, recorded_at_us, source,
      product, actor, action, resource, decision, reasons, latency_us, status_code, request_id,
      trace_id, event, n)
  JOIN unnest($5::bytea[]) WITH ORDINALITY AS h(hash, n) USING (n)
  RETURNING 1`;

/** Insert the rows and move the head, in one statement. */
const APPEND = `WITH ins AS (${INSERT})
  -- A data-modifying WITH always runs to completion, referenced or not.
  UPDATE chain_heads SET seq = $3, hash = $4 WHERE org_id = $2`;

/** What an append finds under the lock: the head, and which of its event ids are stored. */
interface Found {
  head: ChainPoint;
  checkpointSeq: bigint;
  existing: Set<string>;
}

const HEAD_UPSERT = `INSERT INTO chain_heads (org_id, seq, hash) VALUES ($1, 0, $2)
  ON CONFLICT (org_id) DO UPDATE SET seq = chain_heads.seq
  RETURNING seq::text, hash, checkpoint_seq::text`;
const EXISTING = 'SELECT event_id::text FROM events WHERE event_id = ANY($1::uuid[])';

type HeadRow = { seq: string; hash: Buffer; checkpoint_seq: string };

function found(
  head: HeadRow | undefined,
  existing: Array<{ event_id: string }>,
  orgId: string,
): Found {
  if (!head) throw new Error(`no chain head for ${orgId}`);
  return {
    head: { seq: BigInt(head.seq), hash: head.hash },
    checkpointSeq: BigInt(head.checkpoint_seq),
    existing: new Set(existing.map((e) => e.event_id)),
  };
}

/**
 * Chains the rows not stored yet after the head it found, writes them and moves the head, in
 * one statement. Sequences are assigned only to new rows: no gaps.
 */
async function write(
  db: Queryable,
  orgId: string,
  rows: AuditRow[],
  recordedAt: Date,
  { head, checkpointSeq, existing }: Found,
): Promise<AppendResult> {
  const duplicates: string[] = [];
  const fresh = rows.filter((r) => {
    if (existing.has(r.eventId)) {
      duplicates.push(r.eventId);
      return false;
    }
    existing.add(r.eventId);
    return true;
  });
  if (fresh.length === 0) return { appended: [], duplicates, head, checkpointSeq };
  const links = linkRows(head, fresh, recordedAt);
  const last = links.at(-1) ?? { seq: head.seq, hash: head.hash };
  await db.query({
    // Named: prepared once per connection, not planned again for every org of every batch.
    name: 'audit_append',
    text: APPEND,
    values: [recordset(links), orgId, last.seq.toString(), last.hash, links.map((l) => l.hash)],
  });
  return {
    appended: links.map((l) => l.row.eventId),
    duplicates,
    head: { seq: last.seq, hash: last.hash },
    checkpointSeq,
  };
}

/**
 * Appends rows of one org to its chain inside the caller's tenant transaction. The chain head
 * row is locked first (FOR UPDATE through the upsert), so concurrent writers of the same org —
 * other replicas included — take turns; the duplicate check runs after the lock, so it sees
 * every row committed before.
 */
export async function appendInTenant(
  db: Queryable,
  orgId: string,
  rows: AuditRow[],
  recordedAt: Date,
): Promise<AppendResult> {
  const { rows: heads } = await db.query<HeadRow>(HEAD_UPSERT, [orgId, GENESIS_HASH]);
  const { rows: existing } = await db.query<{ event_id: string }>(EXISTING, [
    rows.map((r) => r.eventId),
  ]);
  return write(db, orgId, rows, recordedAt, found(heads[0], existing, orgId));
}

/**
 * Appends rows of one org inside a transaction that writes several: the tenant setting is
 * switched to this org first (every statement after it sees this org's rows only), and the
 * switch, the head lock and the duplicate check travel in one round trip (simple protocol,
 * literals escaped; org and event ids were validated before they got here).
 */
async function appendScoped(
  client: pg.PoolClient,
  orgId: string,
  rows: AuditRow[],
  recordedAt: Date,
): Promise<AppendResult> {
  const lit = (v: string) => client.escapeLiteral(v);
  const ids = lit(`{${rows.map((r) => r.eventId).join(',')}}`);
  const results = (await client.query(
    `SELECT set_config('app.org_id', ${lit(orgId)}, true);
     ${HEAD_UPSERT.replace('$1', () => lit(orgId)).replace('$2', () => `'\\x${GENESIS_HASH.toString('hex')}'::bytea`)};
     ${EXISTING.replace('$1', () => ids)}`,
  )) as unknown as Array<pg.QueryResult>;
  const [, heads, existing] = results as [
    unknown,
    pg.QueryResult<HeadRow>,
    pg.QueryResult<{ event_id: string }>,
  ];
  return write(client, orgId, rows, recordedAt, found(heads.rows[0], existing.rows, orgId));
}

/** One org's rows for an append. */
export interface OrgRows {
  orgId: string;
  rows: AuditRow[];
}

/** Appends rows to the hash chains of their orgs. */
export function createChainWriter(pool: pg.Pool, now: () => Date = () => new Date()) {
  return {
    /** Appends one org's rows in one transaction; nothing is written if anything fails. */
    append(orgId: string, rows: AuditRow[]): Promise<AppendResult> {
      return inTenant(pool, orgId, (db) => appendInTenant(db, orgId, rows, now()));
    },

    /**
     * Appends several orgs' rows in one transaction (one commit for all: many orgs per batch
     * cost one WAL flush, not one each), all or nothing. Orgs are locked in sorted order, so
     * replicas writing overlapping sets of orgs wait for each other and never deadlock.
     */
    async appendMany(batches: OrgRows[]): Promise<Map<string, AppendResult>> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const recordedAt = now();
        const out = new Map<string, AppendResult>();
        const sorted = [...batches].sort((a, b) =>
          a.orgId < b.orgId ? -1 : a.orgId > b.orgId ? 1 : 0,
        );
        for (const b of sorted)
          out.set(b.orgId, await appendScoped(client, b.orgId, b.rows, recordedAt));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
  };
}

/** The chain writer. */
export type ChainWriter = ReturnType<typeof createChainWriter>;
