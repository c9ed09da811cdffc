import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { IdpConfig } from '../../domain/idp-config.js';
import { idpConfigFromRow, type IdpConfigRow } from './idp-config-row.js';

/** What authentication learns from a key hash. */
export interface KeyLookup {
  keyId: string;
  orgId: string;
  tier: string;
  orgDisabled: boolean;
  roles: string[];
  products: string[];
  patKeyId: string | null;
  /** The PAT key version the key is pinned to (0: the current one). */
  patKeyVersion: number;
  revoked: boolean;
  /** The org's identity provider, when it has one. */
  idp?: IdpConfig;
}

/** A stored org row. */
export interface OrgRow {
  id: string;
  name: string;
  tier: string;
  disabled: boolean;
  created_at: Date;
}

/** A stored API key row, without its hash. */
export interface ApiKeyRow {
  id: string;
  org_id: string;
  label: string;
  display_prefix: string;
  environment: 'live' | 'test';
  roles: string[];
  products: string[];
  pat_key_id: string | null;
  pat_key_version: number;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** The key columns the definer functions return (authenticate_key and the token lookup). */
export interface KeyLookupRow {
  key_id: string;
  org_id: string;
  tier: string;
  org_disabled: boolean;
  roles: string[];
  products: string[];
  pat_key_id: string | null;
  revoked: boolean;
  pat_key_version: number;
}

/** A definer function's key columns as authentication uses them. */
export function keyLookupFromRow(r: KeyLookupRow): Omit<KeyLookup, 'idp'> {
  return {
    keyId: r.key_id,
    orgId: r.org_id,
    tier: r.tier,
    orgDisabled: r.org_disabled,
    roles: r.roles,
    products: r.products,
    patKeyId: r.pat_key_id,
    patKeyVersion: r.pat_key_version,
    revoked: r.revoked,
  };
}

const KEY_COLUMNS =
  'id, org_id, label, display_prefix, environment, roles, products, pat_key_id, pat_key_version, created_at, revoked_at, last_used_at';

/** Identity's PostgreSQL store. Every tenant query runs inside `inTenant`. */
export function createIdentityStore(pool: pg.Pool) {
  return {
    /** Looks a key up by its hash, across tenants, through the one definer function. */
    async lookupKey(hash: Buffer): Promise<KeyLookup | undefined> {
      const { rows } = await pool.query<KeyLookupRow & { idp: IdpConfigRow | null }>(
        'SELECT * FROM authenticate_key($1)',
        [hash],
      );
      const r = rows[0];
      if (!r) return undefined;
      return { ...keyLookupFromRow(r), ...(r.idp ? { idp: idpConfigFromRow(r.idp) } : {}) };
    },

    /** Inserts an org; false when the id is taken. */
    async createOrg(org: { id: string; name: string; tier: string }): Promise<OrgRow | undefined> {
      return inTenant(pool, org.id, async (db) => {
        const { rows } = await db.query<OrgRow>(
          `INSERT INTO orgs (id, name, tier) VALUES ($1, $2, $3)
           ON CONFLICT (id) DO NOTHING RETURNING id, name, tier, disabled, created_at`,
          [org.id, org.name, org.tier],
        );
        return rows[0];
      });
    },

    async getOrg(orgId: string): Promise<OrgRow | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<OrgRow>(
          'SELECT id, name, tier, disabled, created_at FROM orgs WHERE id = $1',
          [orgId],
        );
        return rows[0];
      });
    },

    async insertKey(key: {
      id: string;
      orgId: string;
      hash: Buffer;
      displayPrefix: string;
      label: string;
      environment: 'live' | 'test';
      roles: string[];
      products: string[];
      patKeyId: string | null;
      patKeyVersion?: number;
    }): Promise<ApiKeyRow> {
      return inTenant(pool, key.orgId, async (db) => {
        const { rows } = await db.query<ApiKeyRow>(
          `INSERT INTO api_keys (id, org_id, key_hash, display_prefix, label, environment, roles, products, pat_key_id, pat_key_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${KEY_COLUMNS}`,
          [
            key.id,
            key.orgId,
            key.hash,
            key.displayPrefix,
            key.label,
            key.environment,
            key.roles,
            key.products,
            key.patKeyId,
            key.patKeyVersion ?? 0,
          ],
        );
        return rows[0] as ApiKeyRow;
      });
    },

    async listKeys(orgId: string, limit: number, afterId: string): Promise<ApiKeyRow[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<ApiKeyRow>(
          `SELECT ${KEY_COLUMNS} FROM api_keys WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
          [orgId, afterId, limit],
        );
        return rows;
      });
    },

    /** Marks a key revoked (idempotent); undefined when there is no such key in the org. */
    async revokeKey(orgId: string, keyId: string): Promise<ApiKeyRow | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<ApiKeyRow>(
          `UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
           WHERE org_id = $1 AND id = $2 RETURNING ${KEY_COLUMNS}`,
          [orgId, keyId],
        );
        return rows[0];
      });
    },
  };
}

/** Identity's store. */
export type IdentityStore = ReturnType<typeof createIdentityStore>;
