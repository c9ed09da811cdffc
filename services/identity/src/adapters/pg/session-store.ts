import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';

/** Why a session family was revoked. */
export type RevokedReason = 'logout' | 'refresh_token_reuse';

/** A session family with what authentication needs of its user and org. */
export interface SessionFamily {
  sessionId: string;
  orgId: string;
  userId: string;
  email: string;
  roles: string[];
  tier: string;
  expiresAt: Date;
  revokedAt: Date | null;
  userDisabled: boolean;
  orgDisabled: boolean;
}

/** A session family as seen through one of its refresh tokens. */
export interface RefreshFamily extends SessionFamily {
  /** When the presented token was already exchanged; null while it is the current one. */
  tokenUsedAt: Date | null;
}

/** Writes allowed while a refresh token's row is locked. */
export interface RefreshTx {
  /** Marks the presented token used and stores its successor. */
  rotate(nextHash: Buffer, now: Date): Promise<void>;
  /** Revokes the family unless it already is. */
  revoke(reason: RevokedReason, now: Date): Promise<void>;
}

const FAMILY_COLUMNS = `s.id AS session_id, s.org_id, s.user_id, u.email, u.roles, o.tier,
  s.expires_at, s.revoked_at, u.disabled AS user_disabled, o.disabled AS org_disabled`;
const FAMILY_JOIN = `sessions s
  JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id
  JOIN orgs o ON o.id = s.org_id`;

interface FamilyRecord {
  session_id: string;
  org_id: string;
  user_id: string;
  email: string;
  roles: string[];
  tier: string;
  expires_at: Date;
  revoked_at: Date | null;
  user_disabled: boolean;
  org_disabled: boolean;
}

const toFamily = (r: FamilyRecord): SessionFamily => ({
  sessionId: r.session_id,
  orgId: r.org_id,
  userId: r.user_id,
  email: r.email,
  roles: r.roles,
  tier: r.tier,
  expiresAt: r.expires_at,
  revokedAt: r.revoked_at,
  userDisabled: r.user_disabled,
  orgDisabled: r.org_disabled,
});

const revokeFamily = (
  db: Queryable,
  orgId: string,
  sessionId: string,
  reason: RevokedReason,
  now: Date,
) =>
  db.query(
    `UPDATE sessions SET revoked_at = $3, revoked_reason = $4
      WHERE org_id = $1 AND id = $2 AND revoked_at IS NULL`,
    [orgId, sessionId, now, reason],
  );

/** Admin sessions (refresh-token families) on PostgreSQL. Every query runs inside one tenant. */
export function createSessionStore(pool: pg.Pool) {
  return {
    /** Starts a session family with its first refresh token. */
    async open(s: {
      sessionId: string;
      orgId: string;
      userId: string;
      createdAt: Date;
      expiresAt: Date;
      tokenHash: Buffer;
    }): Promise<void> {
      await inTenant(pool, s.orgId, async (db) => {
        await db.query(
          `INSERT INTO sessions (id, org_id, user_id, created_at, expires_at)
           VALUES ($1, $2, $3, $4, $5)`,
          [s.sessionId, s.orgId, s.userId, s.createdAt, s.expiresAt],
        );
        await db.query(
          `INSERT INTO refresh_tokens (token_hash, org_id, session_id, created_at)
           VALUES ($1, $2, $3, $4)`,
          [s.tokenHash, s.orgId, s.sessionId, s.createdAt],
        );
      });
    },

    /** A session family by id, with its user and org; undefined when there is none. */
    async family(orgId: string, sessionId: string): Promise<SessionFamily | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<FamilyRecord>(
          `SELECT ${FAMILY_COLUMNS} FROM ${FAMILY_JOIN} WHERE s.org_id = $1 AND s.id = $2`,
          [orgId, sessionId],
        );
        return rows[0] && toFamily(rows[0]);
      });
    },

    /**
     * Runs `fn` in one transaction with the presented refresh token and its family locked
     * (FOR UPDATE), so two concurrent uses of one token are serialised: the second sees the
     * first's rotation. Writes through `tx` commit with the transaction, also when `fn`'s
     * result is a refusal, so a reuse revocation is never rolled back.
     */
    async withRefreshToken<T>(
      orgId: string,
      tokenHash: Buffer,
      fn: (family: RefreshFamily | undefined, tx: RefreshTx) => Promise<T>,
    ): Promise<T> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<FamilyRecord & { used_at: Date | null }>(
          `SELECT ${FAMILY_COLUMNS}, t.used_at
             FROM ${FAMILY_JOIN}
             JOIN refresh_tokens t ON t.org_id = s.org_id AND t.session_id = s.id
            WHERE t.org_id = $1 AND t.token_hash = $2
              FOR UPDATE OF t, s`,
          [orgId, tokenHash],
        );
        const r = rows[0];
        const family = r && { ...toFamily(r), tokenUsedAt: r.used_at };
        return fn(family, {
          async rotate(nextHash, now) {
            if (!family) throw new Error('no refresh token to rotate');
            await db.query(
              'UPDATE refresh_tokens SET used_at = $3 WHERE org_id = $1 AND token_hash = $2',
              [orgId, tokenHash, now],
            );
            await db.query(
              `INSERT INTO refresh_tokens (token_hash, org_id, session_id, created_at)
               VALUES ($1, $2, $3, $4)`,
              [nextHash, orgId, family.sessionId, now],
            );
          },
          async revoke(reason, now) {
            if (!family) throw new Error('no session to revoke');
            await revokeFamily(db, orgId, family.sessionId, reason, now);
          },
        });
      });
    },
  };
}

/** The session store. */
export type SessionStore = ReturnType<typeof createSessionStore>;
