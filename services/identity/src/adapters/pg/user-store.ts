import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';

/** A stored user, without its password hash. */
export interface UserRow {
  id: string;
  org_id: string;
  email: string;
  roles: string[];
  disabled: boolean;
  created_at: Date;
}

/** What a login needs to know of a user (and its org). */
export interface LoginCandidate {
  userId: string;
  email: string;
  passwordHash: string;
  roles: string[];
  disabled: boolean;
  failedLogins: number;
  lockedUntil: Date | null;
  tier: string;
  orgDisabled: boolean;
}

const USER_COLUMNS = 'id, org_id, email, roles, disabled, created_at';

/** Admin-plane users on PostgreSQL. Every query runs inside one tenant. */
export function createUserStore(pool: pg.Pool) {
  return {
    /** Inserts a user; undefined when the org already has a user with this email. */
    async createUser(user: {
      id: string;
      orgId: string;
      email: string;
      passwordHash: string;
      roles: string[];
    }): Promise<UserRow | undefined> {
      return inTenant(pool, user.orgId, async (db) => {
        const { rows } = await db.query<UserRow>(
          `INSERT INTO users (id, org_id, email, password_hash, roles) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING ${USER_COLUMNS}`,
          [user.id, user.orgId, user.email, user.passwordHash, user.roles],
        );
        return rows[0];
      });
    },

    /** The user of an org with this (lowercased) email, with its org's tier and state. */
    async findForLogin(orgId: string, email: string): Promise<LoginCandidate | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{
          id: string;
          email: string;
          password_hash: string;
          roles: string[];
          disabled: boolean;
          failed_logins: number;
          locked_until: Date | null;
          tier: string;
          org_disabled: boolean;
        }>(
          `SELECT u.id, u.email, u.password_hash, u.roles, u.disabled, u.failed_logins,
                  u.locked_until, o.tier, o.disabled AS org_disabled
             FROM users u JOIN orgs o ON o.id = u.org_id
            WHERE u.org_id = $1 AND lower(u.email) = $2`,
          [orgId, email],
        );
        const r = rows[0];
        if (!r) return undefined;
        return {
          userId: r.id,
          email: r.email,
          passwordHash: r.password_hash,
          roles: r.roles,
          disabled: r.disabled,
          failedLogins: r.failed_logins,
          lockedUntil: r.locked_until,
          tier: r.tier,
          orgDisabled: r.org_disabled,
        };
      });
    },

    /**
     * Counts a failed login, atomically: the `maxFailures`-th consecutive failure locks the
     * account until `lockUntil` and starts the count again. True when this failure locked it.
     */
    async recordFailure(
      orgId: string,
      userId: string,
      maxFailures: number,
      lockUntil: Date,
    ): Promise<boolean> {
      return inTenant(pool, orgId, async (db) => {
        // The count only returns to 0 here when this very failure locked the account.
        const { rows } = await db.query<{ locked: boolean }>(
          `UPDATE users SET
             locked_until = CASE WHEN failed_logins + 1 >= $3 THEN $4 ELSE locked_until END,
             failed_logins = CASE WHEN failed_logins + 1 >= $3 THEN 0 ELSE failed_logins + 1 END
           WHERE org_id = $1 AND id = $2
           RETURNING failed_logins = 0 AS locked`,
          [orgId, userId, maxFailures, lockUntil],
        );
        return rows[0]?.locked ?? false;
      });
    },

    /** Clears the failure count and any lock after a successful login. */
    async recordSuccess(orgId: string, userId: string): Promise<void> {
      await inTenant(pool, orgId, (db) =>
        db.query(
          'UPDATE users SET failed_logins = 0, locked_until = NULL WHERE org_id = $1 AND id = $2',
          [orgId, userId],
        ),
      );
    },
  };
}

/** The user store. */
export type UserStore = ReturnType<typeof createUserStore>;
