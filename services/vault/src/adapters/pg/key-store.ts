import type pg from 'pg';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import type { KeyStore, RotationRecord } from '../../domain/ports.js';
import type { EpochRow, KeyConfigRow, NewEpoch } from '../../domain/records.js';
import { addEvents, markWork } from './work-sql.js';

const EPOCH =
  'org_id, epoch, kms_key_id, wrapped_key, scheme, tier, kms_endpoint, public_key, created_at';
const DAY_MS = 24 * 3600 * 1000;

const upsertConfig = (db: Queryable, c: KeyConfigRow) =>
  db.query(
    `INSERT INTO key_configs (org_id, tier, kms_key_id, kms_endpoint, grant_id, rotation_days, updated_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (org_id) DO UPDATE SET tier = $2, kms_key_id = $3, kms_endpoint = $4,
       grant_id = $5, rotation_days = $6, updated_by = $7, updated_at = now()`,
    [c.org_id, c.tier, c.kms_key_id, c.kms_endpoint, c.grant_id, c.rotation_days, c.updated_by],
  );

const insertEpoch = (db: Queryable, e: NewEpoch, epoch: number) =>
  db.query<EpochRow>(
    `INSERT INTO data_keys (org_id, epoch, kms_key_id, wrapped_key, scheme, tier, kms_endpoint, public_key)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (org_id, epoch) DO NOTHING RETURNING ${EPOCH}`,
    [e.org_id, epoch, e.kms_key_id, e.wrapped_key, e.scheme, e.tier, e.kms_endpoint, e.public_key],
  );

/** Org key configurations and data key epochs in PostgreSQL (tenant-scoped). */
export function createKeyStore(pool: pg.Pool): KeyStore {
  return {
    async config(orgId) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<KeyConfigRow>(
          'SELECT * FROM key_configs WHERE org_id = $1',
          [orgId],
        );
        return rows[0];
      });
    },

    async currentEpoch(orgId) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<EpochRow>(
          `SELECT ${EPOCH} FROM data_keys WHERE org_id = $1 ORDER BY epoch DESC LIMIT 1`,
          [orgId],
        );
        return rows[0];
      });
    },

    async epochs(orgId) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<EpochRow>(
          `SELECT ${EPOCH} FROM data_keys WHERE org_id = $1 ORDER BY epoch`,
          [orgId],
        );
        return rows;
      });
    },

    async insertFirstEpoch(e, rotationDays) {
      return inTenant(pool, e.org_id, async (db) => {
        const inserted = await insertEpoch(db, e, 1);
        const mine = inserted.rows[0];
        if (mine) {
          const due = new Date(mine.created_at.getTime() + rotationDays * DAY_MS);
          await markWork(db, e.org_id, [{ field: 'rotation_due_at', at: due, mode: 'set' }]);
          return mine;
        }
        const { rows } = await db.query<EpochRow>(
          `SELECT ${EPOCH} FROM data_keys WHERE org_id = $1 AND epoch = 1`,
          [e.org_id],
        );
        return rows[0] as EpochRow;
      });
    },

    async rotate(r: RotationRecord) {
      const orgId = r.epoch.org_id;
      return inTenant(pool, orgId, async (db) => {
        // One rotation of an org at a time, across replicas.
        await db.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [
          `vault-rotate:${orgId}`,
        ]);
        if (r.config) await upsertConfig(db, r.config);
        const { rows } = await db.query<{ next: number }>(
          'SELECT coalesce(max(epoch), 0) + 1 AS next FROM data_keys WHERE org_id = $1',
          [orgId],
        );
        const next = rows[0]?.next ?? 1;
        await insertEpoch(db, r.epoch, next);
        await db.query(
          `UPDATE rewrap_jobs SET state = 'superseded', finished_at = now(), updated_at = now()
           WHERE org_id = $1 AND state IN ('running', 'awaiting_session')`,
          [orgId],
        );
        await db.query(
          `INSERT INTO rewrap_jobs (org_id, id, to_epoch, state, actor_id) VALUES ($1, $2, $3, 'running', $4)`,
          [orgId, r.jobId, next, r.actorId],
        );
        await addEvents(db, orgId, r.events(next));
        await markWork(db, orgId, [
          {
            field: 'rotation_due_at',
            at: new Date(Date.now() + r.rotationDays * DAY_MS),
            mode: 'set',
          },
          { field: 'rewrap_due_at', at: 'now', mode: 'earliest' },
        ]);
        return next;
      });
    },

    async saveConfig(config: KeyConfigRow, events: EventEnvelope[]) {
      await inTenant(pool, config.org_id, async (db) => {
        await upsertConfig(db, config);
        await addEvents(db, config.org_id, events);
        const { rows } = await db.query<{ created_at: Date }>(
          'SELECT created_at FROM data_keys WHERE org_id = $1 ORDER BY epoch DESC LIMIT 1',
          [config.org_id],
        );
        const current = rows[0];
        if (current)
          await markWork(db, config.org_id, [
            {
              field: 'rotation_due_at',
              at: new Date(current.created_at.getTime() + config.rotation_days * DAY_MS),
              mode: 'set',
            },
          ]);
      });
    },
  };
}
