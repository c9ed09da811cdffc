import type pg from 'pg';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { inTenant } from '@fortress/kit/pg';
import type { CredentialMeta } from '../../domain/records.js';
import { META } from './credential-store.js';
import { addEvents } from './work-sql.js';

/** What one sweep of an org did, and when the next one is due. */
export interface SweepResult {
  notified: number;
  retired: number;
  nextDueAt: Date | null;
}

/**
 * The periodic sweep of an org's credentials: shreds rotated versions whose overlap window has
 * ended, and records a `credential.expiring` notification (once) for every active version that
 * expires within the notice period.
 */
export function createSweepStore(pool: pg.Pool, options: { expiryNoticeMs: number }) {
  const notice = `${Math.round(options.expiryNoticeMs)} milliseconds`;
  return {
    async sweep(
      orgId: string,
      notify: (credential: CredentialMeta) => EventEnvelope,
    ): Promise<SweepResult> {
      return inTenant(pool, orgId, async (db) => {
        const retired = await db.query(
          `DELETE FROM credentials WHERE org_id = $1 AND status = 'rotated' AND overlap_until <= now()`,
          [orgId],
        );
        const { rows } = await db.query<CredentialMeta>(
          `UPDATE credentials SET expiring_notified_at = now()
           WHERE (org_id, id, version) IN (
             SELECT org_id, id, version FROM credentials
             WHERE org_id = $1 AND status = 'active' AND expiring_notified_at IS NULL
               AND expires_at IS NOT NULL AND expires_at <= now() + $2::interval
             FOR UPDATE SKIP LOCKED)
           RETURNING ${META}`,
          [orgId, notice],
        );
        await addEvents(db, orgId, rows.map(notify));
        const next = await db.query<{ at: Date | null }>(
          `SELECT LEAST(
             (SELECT min(expires_at) - $2::interval FROM credentials WHERE org_id = $1
                AND status = 'active' AND expiring_notified_at IS NULL AND expires_at IS NOT NULL),
             (SELECT min(overlap_until) FROM credentials WHERE org_id = $1 AND status = 'rotated')
           ) AS at`,
          [orgId, notice],
        );
        return {
          notified: rows.length,
          retired: retired.rowCount ?? 0,
          nextDueAt: next.rows[0]?.at ?? null,
        };
      });
    },
  };
}

/** The sweep store. */
export type SweepStore = ReturnType<typeof createSweepStore>;
