import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';

/** A credential row, ciphertext included (never leaves the vault). */
export interface CredentialRow {
  org_id: string;
  id: string;
  version: number;
  kind: string;
  label: string;
  last_four: string;
  status: string;
  key_epoch: number;
  ciphertext: Buffer;
  created_at: Date;
  rotated_at: Date | null;
  expires_at: Date | null;
}

/** Metadata columns: everything but the ciphertext. */
const META =
  'org_id, id, version, kind, label, last_four, status, key_epoch, created_at, rotated_at, expires_at';

/** The vault's PostgreSQL store. */
export function createVaultStore(pool: pg.Pool) {
  return {
    /** The org's newest wrapped data key. */
    async currentDataKey(orgId: string): Promise<{ epoch: number; wrapped: Buffer } | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ epoch: number; wrapped_key: Buffer }>(
          'SELECT epoch, wrapped_key FROM data_keys WHERE org_id = $1 ORDER BY epoch DESC LIMIT 1',
          [orgId],
        );
        return rows[0] && { epoch: rows[0].epoch, wrapped: rows[0].wrapped_key };
      });
    },

    /** Stores a wrapped data key unless another replica stored this epoch first; returns the stored one. */
    async insertDataKey(
      orgId: string,
      epoch: number,
      kmsKeyId: string,
      wrapped: Buffer,
    ): Promise<Buffer> {
      return inTenant(pool, orgId, async (db) => {
        await db.query(
          `INSERT INTO data_keys (org_id, epoch, kms_key_id, wrapped_key) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, epoch) DO NOTHING`,
          [orgId, epoch, kmsKeyId, wrapped],
        );
        const { rows } = await db.query<{ wrapped_key: Buffer }>(
          'SELECT wrapped_key FROM data_keys WHERE org_id = $1 AND epoch = $2',
          [orgId, epoch],
        );
        return (rows[0] as { wrapped_key: Buffer }).wrapped_key;
      });
    },

    /** Inserts version 1 of a credential; false when the id is taken. */
    async insertCredential(
      row: Omit<CredentialRow, 'created_at' | 'rotated_at' | 'status'>,
    ): Promise<CredentialRow | undefined> {
      return inTenant(pool, row.org_id, async (db) => {
        const { rows } = await db.query<CredentialRow>(
          `INSERT INTO credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext, expires_at)
           SELECT $1, $2, $3, $4, $5, $6, 'active', $7, $8, $9
           WHERE NOT EXISTS (SELECT 1 FROM credentials WHERE org_id = $1 AND id = $2)
           RETURNING ${META}`,
          [
            row.org_id,
            row.id,
            row.version,
            row.kind,
            row.label,
            row.last_four,
            row.key_epoch,
            row.ciphertext,
            row.expires_at,
          ],
        );
        return rows[0];
      });
    },

    /** The active version of a credential with its ciphertext and wrapped data key. */
    async activeCredential(
      orgId: string,
      id: string,
    ): Promise<(CredentialRow & { wrapped_key: Buffer }) | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<CredentialRow & { wrapped_key: Buffer }>(
          `SELECT c.*, k.wrapped_key FROM credentials c
           JOIN data_keys k ON k.org_id = c.org_id AND k.epoch = c.key_epoch
           WHERE c.org_id = $1 AND c.id = $2 AND c.status = 'active'
           ORDER BY c.version DESC LIMIT 1`,
          [orgId, id],
        );
        return rows[0];
      });
    },

    /** Metadata of a credential's newest version. */
    async metadata(
      orgId: string,
      id: string,
    ): Promise<Omit<CredentialRow, 'ciphertext'> | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Omit<CredentialRow, 'ciphertext'>>(
          `SELECT ${META} FROM credentials WHERE org_id = $1 AND id = $2 ORDER BY version DESC LIMIT 1`,
          [orgId, id],
        );
        return rows[0];
      });
    },

    /** Metadata of every credential's newest version, by id. */
    async list(
      orgId: string,
      afterId: string,
      limit: number,
    ): Promise<Array<Omit<CredentialRow, 'ciphertext'>>> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Omit<CredentialRow, 'ciphertext'>>(
          `SELECT DISTINCT ON (id) ${META} FROM credentials WHERE org_id = $1 AND id > $2
           ORDER BY id, version DESC LIMIT $3`,
          [orgId, afterId, limit],
        );
        return rows;
      });
    },
  };
}

/** The vault's store. */
export type VaultStore = ReturnType<typeof createVaultStore>;
