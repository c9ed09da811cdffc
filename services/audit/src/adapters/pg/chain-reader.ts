import type pg from 'pg';
import { canonicalRecord, type ChainPoint } from '../../domain/chain.js';
import type { StoredCheckpointRow } from '../../domain/checkpoint-evidence.js';
import type { StoredLink } from '../../domain/verify-chain.js';

/**
 * The canonical text of a row sealed by migration 002 (chain_v 0), as PostgreSQL prints it.
 * Keep identical to the expression in migrations/002.do.hash-chain.sql. It is written out
 * here rather than called as a database function, so that redefining a function cannot
 * change what is verified.
 */
export const LEGACY_CANONICAL_SQL = `jsonb_build_object(
        'v', 0, 'org_id', e.org_id, 'org_seq', e.org_seq::text, 'event_id', e.event_id::text,
        'kind', e.kind,
        'occurred_at_us', (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text,
        'recorded_at_us', (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text,
        'source', e.source, 'product', e.product, 'actor', e.actor, 'action', e.action,
        'resource', e.resource, 'decision', e.decision, 'reasons', e.reasons,
        'latency_us', e.latency_us::text, 'status_code', e.status_code::text,
        'request_id', e.request_id, 'trace_id', e.trace_id, 'event', e.event)::text`;

/** A row exactly as verification reads it: every field as text or JSON, nothing rounded. */
interface RawRow {
  org_id: string;
  /** Null only if someone dropped the NOT NULL constraint. */
  org_seq: string | null;
  event_id: string;
  kind: string;
  occurred_us: string;
  recorded_us: string;
  source: string;
  product: string | null;
  actor: unknown;
  action: string;
  resource: string;
  decision: string | null;
  reasons: unknown;
  latency_us: string | null;
  status_code: string | null;
  request_id: string;
  trace_id: string;
  event: unknown;
  hash: Buffer | null;
  chain_v: number;
  legacy: string | null;
}

const SELECT_ROWS = `SELECT e.org_id, e.org_seq::text, e.event_id::text, e.kind,
    (extract(epoch FROM e.occurred_at) * 1000000)::bigint::text AS occurred_us,
    (extract(epoch FROM e.recorded_at) * 1000000)::bigint::text AS recorded_us,
    e.source, e.product, e.actor, e.action, e.resource, e.decision, e.reasons,
    e.latency_us::text, e.status_code::text, e.request_id, e.trace_id, e.event, e.hash, e.chain_v,
    CASE WHEN e.chain_v = 0 THEN ${LEGACY_CANONICAL_SQL} END AS legacy
  FROM audit.events e WHERE e.org_id = $1 ORDER BY e.org_seq, e.seq`;

/** The link of a stored row: its canonical bytes by its own encoding version. */
function linkOf(r: RawRow): StoredLink {
  // A row without a position sorts last and reads as sequence 0: out of order, so reported.
  const seq = r.org_seq === null ? 0n : BigInt(r.org_seq);
  const canonical =
    r.chain_v === 0 && r.legacy !== null
      ? Buffer.from(r.legacy, 'utf8')
      : canonicalRecord({
          orgId: r.org_id,
          orgSeq: seq,
          eventId: r.event_id,
          kind: r.kind,
          occurredAtUs: r.occurred_us,
          recordedAtUs: r.recorded_us,
          source: r.source,
          product: r.product,
          actor: r.actor,
          action: r.action,
          resource: r.resource,
          decision: r.decision,
          reasons: r.reasons,
          latencyUs: r.latency_us,
          statusCode: r.status_code,
          requestId: r.request_id,
          traceId: r.trace_id,
          event: r.event,
        });
  return { seq, canonical, storedHash: r.hash ?? Buffer.alloc(0) };
}

/** One consistent view of an org's chain. */
export interface ChainSnapshot {
  /** The database time the snapshot started (nothing committed later is visible). */
  snapshotAt: Date;
  head: ChainPoint | undefined;
  checkpoints: StoredCheckpointRow[];
  /** The rows in chain order, a page at a time. */
  links(pageSize?: number): AsyncGenerator<StoredLink[]>;
}

/**
 * Opens a read-only REPEATABLE READ transaction scoped to the org, so the head, the
 * checkpoints and every row come from one snapshot however long reading takes, and runs `fn`
 * on it. Rows come through a cursor: no keyset that a forged duplicate could slip through.
 * Tables are schema-qualified so an auditor's own role (or a superuser) can run it too.
 */
export async function withChainSnapshot<T>(
  pool: pg.Pool,
  orgId: string,
  fn: (snapshot: ChainSnapshot) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows: now } = await client.query<{ at: Date }>(
      "SELECT now() AS at, set_config('app.org_id', $1, true)",
      [orgId],
    );
    const { rows: heads } = await client.query<{ seq: string; hash: Buffer }>(
      'SELECT seq::text, hash FROM audit.chain_heads WHERE org_id = $1',
      [orgId],
    );
    const { rows: cps } = await client.query<{
      org_id: string;
      kind: string;
      seq: string;
      head_hash: Buffer;
      statement: string;
      signature: Buffer;
    }>(
      'SELECT org_id, kind, seq::text, head_hash, statement, signature FROM audit.checkpoints c WHERE org_id = $1 ORDER BY c.seq',
      [orgId],
    );
    const head = heads[0];
    const result = await fn({
      snapshotAt: now[0]?.at ?? new Date(0),
      head: head ? { seq: BigInt(head.seq), hash: head.hash } : undefined,
      checkpoints: cps.map((c) => ({
        orgId: c.org_id,
        kind: c.kind,
        seq: BigInt(c.seq),
        headHash: c.head_hash,
        statement: c.statement,
        signature: c.signature,
      })),
      async *links(pageSize = 2000) {
        await client.query(`DECLARE chain_rows NO SCROLL CURSOR FOR ${SELECT_ROWS}`, [orgId]);
        for (;;) {
          const { rows } = await client.query<RawRow>(`FETCH ${pageSize} FROM chain_rows`);
          if (rows.length === 0) return;
          yield rows.map(linkOf);
        }
      },
    });
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
