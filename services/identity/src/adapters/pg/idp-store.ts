import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { IdpConfig, IdpConfigInput } from '../../domain/idp-config.js';
import type { IdpUser } from '../../domain/idp-claims.js';
import { keyLookupFromRow, type KeyLookup, type KeyLookupRow } from './identity-store.js';
import { idpConfigFromRow, type IdpConfigRow } from './idp-config-row.js';

const CONFIG_COLUMNS = `issuer, audiences, jwks_uri, algorithms, user_id_claim, email_claims,
  device_id_claim, attribute_claims, groups_claim, group_roles, updated_at`;

/** What authentication learns from a Fortress token's hash: its key, its user, its expiry. */
export interface ExchangedTokenLookup extends Omit<KeyLookup, 'idp'> {
  user: IdpUser;
  expiresAt: Date;
}

/** A Fortress token to store (its hash only). */
export interface NewExchangedToken {
  hash: Buffer;
  orgId: string;
  apiKeyId: string;
  user: IdpUser;
  createdAt: Date;
  expiresAt: Date;
}

/** How long expired tokens are kept before an exchange in their org removes them. */
const PURGE_AFTER = "interval '1 day'";

/** IdP configurations and Fortress tokens on PostgreSQL. */
export function createIdpStore(pool: pg.Pool) {
  return {
    async getIdpConfig(orgId: string): Promise<IdpConfig | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<IdpConfigRow>(
          `SELECT ${CONFIG_COLUMNS} FROM idp_configs WHERE org_id = $1`,
          [orgId],
        );
        return rows[0] ? idpConfigFromRow(rows[0]) : undefined;
      });
    },

    /** Creates or replaces an org's configuration. */
    async setIdpConfig(orgId: string, c: IdpConfigInput): Promise<IdpConfig> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<IdpConfigRow>(
          `INSERT INTO idp_configs (org_id, issuer, audiences, jwks_uri, algorithms, user_id_claim,
             email_claims, device_id_claim, attribute_claims, groups_claim, group_roles, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, clock_timestamp())
           ON CONFLICT (org_id) DO UPDATE SET
             issuer = EXCLUDED.issuer, audiences = EXCLUDED.audiences,
             jwks_uri = EXCLUDED.jwks_uri, algorithms = EXCLUDED.algorithms,
             user_id_claim = EXCLUDED.user_id_claim, email_claims = EXCLUDED.email_claims,
             device_id_claim = EXCLUDED.device_id_claim,
             attribute_claims = EXCLUDED.attribute_claims, groups_claim = EXCLUDED.groups_claim,
             group_roles = EXCLUDED.group_roles, updated_at = EXCLUDED.updated_at
           RETURNING ${CONFIG_COLUMNS}`,
          [
            orgId,
            c.issuer,
            c.audiences,
            c.jwksUri,
            c.algorithms,
            c.userIdClaim,
            c.emailClaims,
            c.deviceIdClaim,
            c.attributeClaims,
            c.groupsClaim,
            JSON.stringify(c.groupRoles),
          ],
        );
        return idpConfigFromRow(rows[0] as IdpConfigRow);
      });
    },

    /** Stores a Fortress token's hash, and drops its org's tokens long expired. */
    async insertExchangedToken(t: NewExchangedToken): Promise<void> {
      await inTenant(pool, t.orgId, async (db) => {
        await db.query(
          `DELETE FROM exchanged_tokens WHERE org_id = $1 AND expires_at < $2::timestamptz - ${PURGE_AFTER}`,
          [t.orgId, t.createdAt],
        );
        await db.query(
          `INSERT INTO exchanged_tokens (token_hash, org_id, api_key_id, user_id, email, device_id,
             attributes, group_roles, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [
            t.hash,
            t.orgId,
            t.apiKeyId,
            t.user.userId,
            t.user.email,
            t.user.deviceId,
            JSON.stringify(t.user.attributes),
            t.user.groupRoles,
            t.createdAt,
            t.expiresAt,
          ],
        );
      });
    },

    /** Looks a Fortress token up by its hash, across tenants, through its definer function. */
    async lookupExchangedToken(hash: Buffer): Promise<ExchangedTokenLookup | undefined> {
      const { rows } = await pool.query<
        KeyLookupRow & {
          user_id: string;
          email: string;
          device_id: string;
          attributes: Record<string, string>;
          group_roles: string[];
          expires_at: Date;
        }
      >('SELECT * FROM authenticate_exchanged_token($1)', [hash]);
      const r = rows[0];
      if (!r) return undefined;
      return {
        ...keyLookupFromRow(r),
        user: {
          userId: r.user_id,
          email: r.email,
          deviceId: r.device_id,
          attributes: r.attributes,
          groupRoles: r.group_roles,
        },
        expiresAt: r.expires_at,
      };
    },
  };
}

/** The IdP store. */
export type IdpStore = ReturnType<typeof createIdpStore>;
