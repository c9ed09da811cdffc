import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import { StaleEpochError, type CredentialStore } from '../../domain/ports.js';
import type {
  CredentialMeta,
  EpochRow,
  NewCredentialRow,
  ResolveRow,
} from '../../domain/records.js';
import { addEvents, FOREIGN_KEY_VIOLATION, markWork, pgCode, type WorkMark } from './work-sql.js';

/** Metadata columns: everything but the ciphertext and the wrapped key. */
export const META =
  'org_id, id, version, kind, label, last_four, status, key_epoch, created_at, rotated_at, expires_at, overlap_until';

/** The end of the overlap of the newest earlier version still serving, for metadata rows. */
const PREVIOUS_SERVES_UNTIL = `(SELECT max(p.overlap_until) FROM credentials p
   WHERE p.org_id = c.org_id AND p.id = c.id AND p.version < c.version AND p.overlap_until > now())
   AS previous_serves_until`;

type Joined = CredentialRow & {
  k_kms_key_id: string;
  k_wrapped_key: Buffer;
  k_scheme: EpochRow['scheme'];
  k_tier: EpochRow['tier'];
  k_kms_endpoint: string;
  k_public_key: Buffer | null;
  k_created_at: Date;
  org_tier: ResolveRow['org_tier'];
};
type CredentialRow = Omit<ResolveRow, 'epoch' | 'org_tier'>;

/** Runs a write that names a data key epoch; a retired epoch becomes StaleEpochError. */
async function naming<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (pgCode(err, FOREIGN_KEY_VIOLATION)) throw new StaleEpochError({ cause: err });
    throw err;
  }
}

const insertRow = (db: Queryable, r: NewCredentialRow, status: string, rotated: boolean) =>
  db.query<CredentialMeta>(
    `INSERT INTO credentials (org_id, id, version, kind, label, last_four, status, key_epoch,
       ciphertext, wrapped_dek, expires_at, rotated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ${rotated ? 'now()' : 'NULL'})
     RETURNING ${META}`,
    [
      r.org_id,
      r.id,
      r.version,
      r.kind,
      r.label,
      r.last_four,
      status,
      r.key_epoch,
      r.ciphertext,
      r.wrapped_dek,
      r.expires_at,
    ],
  );

/** Credential versions in PostgreSQL; each change commits with its events. */
export function createCredentialStore(
  pool: pg.Pool,
  options: { expiryNoticeMs: number },
): CredentialStore {
  const expiryMark = (expiresAt: Date | null): WorkMark[] =>
    expiresAt
      ? [
          {
            field: 'sweep_due_at',
            at: new Date(expiresAt.getTime() - options.expiryNoticeMs),
            mode: 'earliest',
          },
        ]
      : [];

  return {
    insertCredential: (row, events) =>
      naming(() =>
        inTenant(pool, row.org_id, async (db) => {
          const { rows } = await db.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM credentials WHERE org_id = $1 AND id = $2',
            [row.org_id, row.id],
          );
          if ((rows[0]?.n ?? 0) > 0) return undefined;
          const inserted = await insertRow(db, row, 'active', false).catch((err: unknown) => {
            if (pgCode(err, '23505')) return undefined; // a concurrent put of the same id won
            throw err;
          });
          const meta = inserted?.rows[0];
          if (!meta) return undefined;
          await addEvents(db, row.org_id, events);
          await markWork(db, row.org_id, expiryMark(row.expires_at));
          return meta;
        }),
      ),

    async forResolve(orgId, id, version) {
      return inTenant(pool, orgId, async (db) => {
        // Named: the hot path's plan is prepared once per connection, not planned per call.
        const { rows } = await db.query<Joined>({
          name: 'vault_for_resolve',
          text: `SELECT c.*, k.kms_key_id AS k_kms_key_id, k.wrapped_key AS k_wrapped_key,
             k.scheme AS k_scheme, k.tier AS k_tier, k.kms_endpoint AS k_kms_endpoint,
             k.public_key AS k_public_key, k.created_at AS k_created_at,
             coalesce(kc.tier, 'soho') AS org_tier
           FROM credentials c
           JOIN data_keys k ON k.org_id = c.org_id AND k.epoch = c.key_epoch
           LEFT JOIN key_configs kc ON kc.org_id = c.org_id
           WHERE c.org_id = $1 AND c.id = $2
             AND (($3::int = 0 AND c.status = 'active') OR c.version = $3::int)
           ORDER BY c.version DESC LIMIT 1`,
          values: [orgId, id, version],
        });
        const j = rows[0];
        if (!j) {
          const newest = await db.query<{ v: number | null }>(
            'SELECT max(version) AS v FROM credentials WHERE org_id = $1 AND id = $2',
            [orgId, id],
          );
          return { row: undefined, newestVersion: newest.rows[0]?.v ?? undefined };
        }
        const epoch: EpochRow = {
          org_id: j.org_id,
          epoch: j.key_epoch,
          kms_key_id: j.k_kms_key_id,
          wrapped_key: j.k_wrapped_key,
          scheme: j.k_scheme,
          tier: j.k_tier,
          kms_endpoint: j.k_kms_endpoint,
          public_key: j.k_public_key,
          created_at: j.k_created_at,
        };
        return { row: { ...j, epoch, org_tier: j.org_tier }, newestVersion: undefined };
      });
    },

    async metadata(orgId, id) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<CredentialMeta>(
          `SELECT ${META}, ${PREVIOUS_SERVES_UNTIL} FROM credentials c
           WHERE org_id = $1 AND id = $2 ORDER BY version DESC LIMIT 1`,
          [orgId, id],
        );
        return rows[0];
      });
    },

    async list(orgId, afterId, limit) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<CredentialMeta>(
          `SELECT DISTINCT ON (id) ${META}, ${PREVIOUS_SERVES_UNTIL} FROM credentials c
           WHERE org_id = $1 AND id > $2
           ORDER BY id, version DESC LIMIT $3`,
          [orgId, afterId, limit],
        );
        return rows;
      });
    },

    rotateCredential: (row, overlapUntil, events) =>
      naming(() =>
        inTenant(pool, row.org_id, async (db) => {
          const { rows } = await db.query<{ version: number }>(
            `SELECT version FROM credentials WHERE org_id = $1 AND id = $2
             ORDER BY version DESC LIMIT 1 FOR UPDATE`,
            [row.org_id, row.id],
          );
          const newest = rows[0];
          if (!newest) return { ok: false, why: 'not_found' } as const;
          if (newest.version !== row.version - 1)
            return { ok: false, why: 'version_moved' } as const;
          await db.query(
            `UPDATE credentials SET status = 'rotated', overlap_until = $3, rotated_at = now()
             WHERE org_id = $1 AND id = $2 AND status = 'active'`,
            [row.org_id, row.id, overlapUntil],
          );
          const inserted = await insertRow(db, row, 'active', true);
          await addEvents(db, row.org_id, events);
          await markWork(db, row.org_id, [
            { field: 'sweep_due_at', at: overlapUntil, mode: 'earliest' },
            ...expiryMark(row.expires_at),
          ]);
          return { ok: true, meta: inserted.rows[0] as CredentialMeta } as const;
        }),
      ),

    async deleteCredential(orgId, id, events) {
      return inTenant(pool, orgId, async (db) => {
        const { rowCount } = await db.query(
          'DELETE FROM credentials WHERE org_id = $1 AND id = $2',
          [orgId, id],
        );
        if (rowCount) await addEvents(db, orgId, events);
        return rowCount ?? 0;
      });
    },

    async shredOrg(orgId, events) {
      return inTenant(pool, orgId, async (db) => {
        const credentials = await db.query('DELETE FROM credentials WHERE org_id = $1', [orgId]);
        const dataKeys = await db.query('DELETE FROM data_keys WHERE org_id = $1', [orgId]);
        await db.query('DELETE FROM key_configs WHERE org_id = $1', [orgId]);
        await db.query('DELETE FROM rewrap_jobs WHERE org_id = $1', [orgId]);
        await db.query(
          `UPDATE org_work SET rotation_due_at = NULL, rewrap_due_at = NULL, sweep_due_at = NULL
           WHERE org_id = $1`,
          [orgId],
        );
        await addEvents(db, orgId, events);
        return { credentials: credentials.rowCount ?? 0, dataKeys: dataKeys.rowCount ?? 0 };
      });
    },
  };
}
