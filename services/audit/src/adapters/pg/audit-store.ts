import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';

/** A stored audit row as read back. */
export interface StoredAuditRow {
  seq: string;
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
  /** Only rows older than this sequence (keyset pagination, newest first). */
  beforeSeq?: string;
  limit: number;
}

/** The audit log's PostgreSQL store. */
export function createAuditStore(pool: pg.Pool) {
  return {
    /** Appends a row unless one with the same event id exists; true when it was new. */
    async append(row: AuditRow): Promise<boolean> {
      return inTenant(pool, row.orgId, async (db) => {
        const { rowCount } = await db.query(
          `INSERT INTO events (event_id, org_id, kind, occurred_at, source, product, actor, action, resource,
             decision, reasons, latency_us, status_code, request_id, trace_id, event)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT (event_id) DO NOTHING`,
          [
            row.eventId,
            row.orgId,
            row.kind,
            row.occurredAt,
            row.source,
            row.product,
            JSON.stringify(row.actor),
            row.action,
            row.resource,
            row.decision,
            JSON.stringify(row.reasons),
            row.latencyUs,
            row.statusCode,
            row.requestId,
            row.traceId,
            JSON.stringify(row.event),
          ],
        );
        return rowCount === 1;
      });
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
        const where = ['org_id = $1'];
        const args: unknown[] = [f.orgId];
        const add = (sql: string, value: unknown) => {
          args.push(value);
          where.push(sql.replace('?', `$${args.length}`));
        };
        if (f.requestId) add('request_id = ?', f.requestId);
        if (f.kind) add('kind = ?', f.kind);
        if (f.decision) add('decision = ?', f.decision);
        if (f.since) add('occurred_at >= ?', f.since);
        if (f.until) add('occurred_at < ?', f.until);
        if (f.beforeSeq) add('seq < ?', f.beforeSeq);
        args.push(f.limit);
        const { rows } = await db.query<StoredAuditRow>(
          `SELECT * FROM events WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${args.length}`,
          args,
        );
        return rows;
      });
    },
  };
}

/** The audit store. */
export type AuditStore = ReturnType<typeof createAuditStore>;
