import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { RewrapStore } from '../../domain/ports.js';
import type { RewrapJobRow, RewrapRow } from '../../domain/records.js';
import { addEvents, FOREIGN_KEY_VIOLATION, pgCode } from './work-sql.js';

/** Re-wrap jobs and their batches in PostgreSQL. */
export function createRewrapStore(pool: pg.Pool): RewrapStore {
  return {
    async activeJob(orgId) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<RewrapJobRow>(
          `SELECT * FROM rewrap_jobs WHERE org_id = $1 AND state IN ('running', 'awaiting_session')
           ORDER BY to_epoch DESC LIMIT 1`,
          [orgId],
        );
        return rows[0];
      });
    },

    async job(orgId, jobId) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<RewrapJobRow>(
          'SELECT * FROM rewrap_jobs WHERE org_id = $1 AND id = $2',
          [orgId, jobId],
        );
        return rows[0];
      });
    },

    async remaining(orgId, toEpoch) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM credentials WHERE org_id = $1 AND key_epoch <> $2',
          [orgId, toEpoch],
        );
        return rows[0]?.n ?? 0;
      });
    },

    async byEpoch(orgId, toEpoch) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ epoch: number; n: number }>(
          `SELECT key_epoch AS epoch, count(*)::int AS n FROM credentials
           WHERE org_id = $1 AND key_epoch <> $2 GROUP BY key_epoch`,
          [orgId, toEpoch],
        );
        return new Map(rows.map((r) => [r.epoch, r.n]));
      });
    },

    async rewrapBatch(job, fromEpochs, limit, rewrap) {
      return inTenant(pool, job.org_id, async (db) => {
        const { rows } = await db.query<RewrapRow>(
          `SELECT id, version, key_epoch, wrapped_dek, ciphertext FROM credentials
           WHERE org_id = $1 AND key_epoch <> $2 AND key_epoch = ANY($3::int[])
           ORDER BY key_epoch, id, version LIMIT $4 FOR UPDATE SKIP LOCKED`,
          [job.org_id, job.to_epoch, fromEpochs, limit],
        );
        if (rows.length === 0) return 0;
        const updates = rewrap(rows);
        await db.query(
          `UPDATE credentials c SET key_epoch = $2, wrapped_dek = u.w,
             ciphertext = coalesce(u.ct, c.ciphertext)
           FROM unnest($3::text[], $4::int[], $5::bytea[], $6::bytea[]) AS u(id, version, w, ct)
           WHERE c.org_id = $1 AND c.id = u.id AND c.version = u.version`,
          [
            job.org_id,
            job.to_epoch,
            updates.map((u) => u.id),
            updates.map((u) => u.version),
            updates.map((u) => u.wrapped_dek),
            updates.map((u) => u.ciphertext),
          ],
        );
        await db.query(
          `UPDATE rewrap_jobs SET rewrapped = rewrapped + $3, state = 'running', updated_at = now()
           WHERE org_id = $1 AND id = $2`,
          [job.org_id, job.id, updates.length],
        );
        return updates.length;
      });
    },

    async setState(job, state) {
      await inTenant(pool, job.org_id, (db) =>
        db.query(
          `UPDATE rewrap_jobs SET state = $3, updated_at = now()
           WHERE org_id = $1 AND id = $2 AND state IN ('running', 'awaiting_session')`,
          [job.org_id, job.id, state],
        ),
      );
    },

    async finish(job, events) {
      try {
        return await inTenant(pool, job.org_id, async (db) => {
          // Claim the job first: a rotation that superseded it meanwhile owns the newer epoch,
          // and this job must neither finish nor retire anything (the row lock orders the two).
          const claimed = await db.query(
            `UPDATE rewrap_jobs SET state = 'done', finished_at = now(), updated_at = now()
             WHERE org_id = $1 AND id = $2 AND state IN ('running', 'awaiting_session')`,
            [job.org_id, job.id],
          );
          if (claimed.rowCount === 0) return [];
          const { rows } = await db.query<{ epoch: number }>(
            `DELETE FROM data_keys k WHERE k.org_id = $1 AND k.epoch < $2
               AND NOT EXISTS (SELECT 1 FROM credentials c WHERE c.org_id = k.org_id AND c.key_epoch = k.epoch)
             RETURNING epoch`,
            [job.org_id, job.to_epoch],
          );
          const left = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM credentials WHERE org_id = $1 AND key_epoch <> $2',
            [job.org_id, job.to_epoch],
          );
          if ((left.rows[0]?.n ?? 0) > 0) throw new Stragglers();
          await addEvents(db, job.org_id, events);
          return rows.map((r) => r.epoch);
        });
      } catch (err) {
        // A put sealed under an old epoch just before it went: re-wrap it on the next pass.
        if (err instanceof Stragglers || pgCode(err, FOREIGN_KEY_VIOLATION)) return undefined;
        throw err;
      }
    },
  };
}

/** Rolls back a finish that found credentials still on an old epoch. */
class Stragglers extends Error {}
