import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import { createChainWriter } from './chain-writer.js';

/** A stored audit row as read back. */
export interface StoredAuditRow {
  seq: string;
  /** Position in the org's hash chain (bigint, so a string). */
  org_seq: string;
  event_id: string;
  org_id: string;
  kind: string;
  occurred_at: Date;
  recorded_at: Date;
  product: string | null;
  actor: Record<string, unknown>;
  action: string;
  resource: string;
  decision: 'allow' | 'deny' | null;
  reasons: Array<{ code: string; message: string; ruleId: string }>;
  /** bigint in the database, so pg returns it as a string. */
  latency_us: string | null;
  status_code: number | null;
  request_id: string;
  trace_id: string;
  event: unknown;
}

/** Filters of an audit query. */
export interface AuditFilter {
  orgId: string;
  requestId?: string;
  kind?: string;
  decision?: 'allow' | 'deny';
  since?: Date;
  until?: Date;
  /** Changes to entities of this type (change rows only). */
  entityType?: string;
  /** …and this id (needs entityType). */
  entityId?: string;
  /** Only rows before this chain position (keyset pagination, newest first). */
  beforeOrgSeq?: string;
  /** Only rows after this chain position (keyset pagination, oldest first: exports). */
  afterOrgSeq?: string;
  limit: number;
}

/**
 * The columns of a StoredAuditRow. org_seq is read as text (a bigint); ORDER BY must therefore
 * name events.org_seq, or it would sort by the text. `seq` (global insertion order) is kept for
 * compatibility only.
 */
export const AUDIT_COLUMNS = `seq, org_seq::text AS org_seq, event_id, org_id, kind, occurred_at, recorded_at,
  product, actor, action, resource, decision, reasons, latency_us, status_code, request_id,
  trace_id, event`;

/** The WHERE clause and arguments of a filter. */
function where(f: AuditFilter): { sql: string; args: unknown[] } {
  const parts = ['org_id = $1'];
  const args: unknown[] = [f.orgId];
  const add = (sql: string, value: unknown) => {
    args.push(value);
    parts.push(sql.replace('?', `$${args.length}`));
  };
  if (f.requestId) add('request_id = ?', f.requestId);
  if (f.kind) add('kind = ?', f.kind);
  if (f.decision) add('decision = ?', f.decision);
  if (f.since) add('occurred_at >= ?', f.since);
  if (f.until) add('occurred_at < ?', f.until);
  if (f.entityType && f.entityId) add('resource = ?', `${f.entityType}:${f.entityId}`);
  else if (f.entityType) add("starts_with(resource, ? || ':')", f.entityType);
  if (f.beforeOrgSeq) add('org_seq < ?', f.beforeOrgSeq);
  if (f.afterOrgSeq) add('org_seq > ?', f.afterOrgSeq);
  return { sql: parts.join(' AND '), args };
}

/** The audit log's PostgreSQL store: appends through the hash chain, queries under RLS. */
export function createAuditStore(pool: pg.Pool, now?: () => Date) {
  const chain = createChainWriter(pool, now);
  return {
    /** Appends a row unless one with the same event id exists; true when it was new. */
    async append(row: AuditRow): Promise<boolean> {
      const result = await chain.append(row.orgId, [row]);
      return result.appended.length === 1;
    },

    /** Keeps an event that cannot be stored as an audit row, with why, instead of losing it. */
    async reject(event: { subject: string; reason: string; payload: Uint8Array }): Promise<void> {
      await pool.query(
        'INSERT INTO rejected_events (subject, reason, payload) VALUES ($1, $2, $3)',
        [event.subject, event.reason, Buffer.from(event.payload)],
      );
    },

    /** Rows of one org matching the filter, newest first. */
    async query(f: AuditFilter): Promise<StoredAuditRow[]> {
      return inTenant(pool, f.orgId, async (db) => {
        const w = where(f);
        const { rows } = await db.query<StoredAuditRow>(
          `SELECT ${AUDIT_COLUMNS} FROM events WHERE ${w.sql} ORDER BY events.org_seq DESC LIMIT $${w.args.length + 1}`,
          [...w.args, f.limit],
        );
        return rows;
      });
    },

    /** Rows of one org matching the filter, oldest first in chain order (for exports). */
    async chronological(f: AuditFilter): Promise<StoredAuditRow[]> {
      return inTenant(pool, f.orgId, async (db) => {
        const w = where(f);
        const { rows } = await db.query<StoredAuditRow>(
          `SELECT ${AUDIT_COLUMNS} FROM events WHERE ${w.sql} ORDER BY events.org_seq LIMIT $${w.args.length + 1}`,
          [...w.args, f.limit],
        );
        return rows;
      });
    },
  };
}

/** The audit store. */
export type AuditStore = ReturnType<typeof createAuditStore>;
