import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';

/** Relays an org's outbox: locks, publishes and deletes up to `limit` events in one go. */
export function createOutboxStore(pool: pg.Pool) {
  return {
    async drain(
      orgId: string,
      limit: number,
      publish: (envelope: Uint8Array) => Promise<void>,
    ): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ seq: string; envelope: Buffer }>(
          `SELECT o.seq::text AS seq, o.envelope FROM outbox o WHERE o.org_id = $1
           ORDER BY o.seq LIMIT $2 FOR UPDATE SKIP LOCKED`,
          [orgId, limit],
        );
        for (const r of rows) await publish(r.envelope);
        if (rows.length > 0)
          await db.query('DELETE FROM outbox WHERE org_id = $1 AND seq = ANY($2::bigint[])', [
            orgId,
            rows.map((r) => r.seq),
          ]);
        return rows.length;
      });
    },
  };
}

/** The outbox store. */
export type OutboxStore = ReturnType<typeof createOutboxStore>;
