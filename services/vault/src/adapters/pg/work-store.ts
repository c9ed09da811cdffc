import type pg from 'pg';
import type { WorkField } from './work-sql.js';

/** An org's due work, as a worker claimed it. */
export interface WorkRow {
  org_id: string;
  rotation_due_at: Date | null;
  rewrap_due_at: Date | null;
  sweep_due_at: Date | null;
  outbox_due_at: Date | null;
  gen: string;
}

const DUE = 'LEAST(rotation_due_at, rewrap_due_at, sweep_due_at, outbox_due_at)';
const RETURNING =
  'org_id, rotation_due_at, rewrap_due_at, sweep_due_at, outbox_due_at, gen::text AS gen';

/**
 * Which orgs have background work due, with leases so that one replica at a time works on an
 * org (a crashed replica's lease runs out and another takes over). org_work is untenanted:
 * it holds org ids and times only.
 */
export function createWorkStore(pool: pg.Pool) {
  return {
    /** Leases up to `limit` orgs with work due now, skipping those leased by others. */
    async claimDue(owner: string, leaseMs: number, limit: number): Promise<WorkRow[]> {
      const { rows } = await pool.query<WorkRow>(
        `UPDATE org_work SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
         WHERE org_id IN (
           SELECT org_id FROM org_work
           WHERE ${DUE} <= now() AND (lease_until IS NULL OR lease_until < now())
           ORDER BY ${DUE} LIMIT $3 FOR UPDATE SKIP LOCKED)
         RETURNING ${RETURNING}`,
        [owner, leaseMs, limit],
      );
      return rows;
    },

    /** Leases one org now if it has work due and nobody else holds it. */
    async claimOrg(owner: string, orgId: string, leaseMs: number): Promise<WorkRow | undefined> {
      const { rows } = await pool.query<WorkRow>(
        `UPDATE org_work SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond'
         WHERE org_id = $3 AND ${DUE} <= now() AND (lease_until IS NULL OR lease_until < now())
         RETURNING ${RETURNING}`,
        [owner, leaseMs, orgId],
      );
      return rows[0];
    },

    /**
     * Ends a lease, setting the due times of the work done — unless something marked new work
     * since the claim (the generation moved), in which case the due times stay as they are.
     */
    async release(
      owner: string,
      claimed: WorkRow,
      next: Partial<Record<WorkField, Date | null>>,
    ): Promise<void> {
      const values: unknown[] = [claimed.org_id, owner, claimed.gen];
      const sets = ['lease_owner = NULL', 'lease_until = NULL'];
      for (const [field, at] of Object.entries(next)) {
        values.push(at);
        sets.push(
          `${field} = CASE WHEN gen = $3::bigint THEN $${values.length}::timestamptz ELSE ${field} END`,
        );
      }
      await pool.query(
        `UPDATE org_work SET ${sets.join(', ')} WHERE org_id = $1 AND lease_owner = $2`,
        values,
      );
    },

    /** Leaves an org's work as it is but records that the lease ended (e.g. on shutdown). */
    async forgetLease(owner: string, orgId: string): Promise<void> {
      await pool.query(
        'UPDATE org_work SET lease_owner = NULL, lease_until = NULL WHERE org_id = $1 AND lease_owner = $2',
        [orgId, owner],
      );
    },
  };
}

/** The work store. */
export type WorkStore = ReturnType<typeof createWorkStore>;
