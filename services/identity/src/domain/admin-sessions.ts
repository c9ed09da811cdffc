import type { Principal } from '@fortress/proto/common/v1/common_pb';
import { InvalidArgumentError, UnauthenticatedError } from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import { requireId } from '@fortress/kit/validate';
import type { SessionFamily, SessionStore } from '../adapters/pg/session-store.js';
import type { UserStore } from '../adapters/pg/user-store.js';
import { signAccessToken, type SessionSigningKey } from './access-token.js';
import { requireEmail } from './admin-user.js';
import { dummyPasswordHash, verifyPassword } from './password.js';
import { hashRefreshToken, issueRefreshToken, refreshTokenOrg } from './refresh-token.js';
import { adminPrincipal, familyProblem, type FamilyProblem } from './session-family.js';

/** How long things last, and when an account locks. */
export interface SessionSettings {
  /** Lifetime of an access token (15 minutes in production). */
  accessTtlSeconds: number;
  /** Absolute lifetime of a session family, however often it is refreshed. */
  sessionMaxAgeSeconds: number;
  /** Consecutive failed logins that lock an account… */
  maxFailedLogins: number;
  /** …for this long. */
  lockSeconds: number;
}

/** What Login and RefreshSession hand out. */
export interface IssuedSession {
  accessToken: string;
  accessExpiresAt: Date;
  refreshToken: string;
  /** The ADMIN principal of the session. */
  principal: Principal;
}

/** What the session domain is built from. */
export interface AdminSessionDeps {
  users: Pick<UserStore, 'findForLogin' | 'recordFailure' | 'recordSuccess'>;
  sessions: Pick<SessionStore, 'open' | 'withRefreshToken'>;
  signingKey: SessionSigningKey;
  settings: SessionSettings;
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
}

/** One message for every wrong email or password, locked or disabled account: no enumeration. */
const invalidCredentials = () =>
  new UnauthenticatedError('invalid_credentials', 'invalid email or password');
const invalidRefreshToken = () =>
  new UnauthenticatedError('invalid_refresh_token', 'the refresh token is not valid');

const PROBLEMS: Record<FamilyProblem, string> = {
  session_revoked: 'the session has been revoked; log in again',
  session_expired: 'the session has expired; log in again',
  org_disabled: 'the organisation is disabled',
  user_disabled: 'the user is disabled',
};

const later = (from: Date, seconds: number) => new Date(from.getTime() + seconds * 1000);

/**
 * Admin sessions: password login, refresh-token rotation with reuse detection, and logout.
 * A session is a family of refresh tokens; each is usable once, and presenting a used one
 * means it was copied, so the whole family is revoked.
 */
export function createAdminSessions(deps: AdminSessionDeps) {
  const { users, sessions, signingKey, settings, logger } = deps;
  const clock = deps.now ?? (() => new Date());
  let dummyHash: Promise<string> | undefined;

  /** An access token for the family, never outliving it. */
  const issueAccess = async (family: SessionFamily, now: Date) => {
    const ttlEnd = later(now, settings.accessTtlSeconds);
    const expiresAt = ttlEnd < family.expiresAt ? ttlEnd : family.expiresAt;
    const accessToken = await signAccessToken(
      signingKey,
      {
        userId: family.userId,
        orgId: family.orgId,
        roles: family.roles,
        sessionId: family.sessionId,
      },
      now,
      expiresAt,
    );
    return { accessToken, accessExpiresAt: expiresAt };
  };

  return {
    /** Checks an email and password in an org and opens a session. */
    async login(input: { orgId: string; email: string; password: string }): Promise<IssuedSession> {
      const orgId = requireId('org_id', input.orgId, 'org');
      const email = requireEmail('email', input.email);
      if (!input.password) throw new InvalidArgumentError('password', 'password is required');
      // LoginRequest.totp_code is not read: MFA is not built yet, so S1 is password only.
      const now = clock();
      const candidate = await users.findForLogin(orgId, email);
      // An unknown email is verified against a dummy hash and records a failure that matches
      // no row (as does a locked account), so every refusal costs what a wrong password costs.
      const matches = await verifyPassword(
        input.password,
        candidate?.passwordHash ?? (await (dummyHash ??= dummyPasswordHash())),
      );
      const locked = candidate?.lockedUntil != null && candidate.lockedUntil > now;
      if (!candidate || !matches || locked) {
        const lockedNow = await users.recordFailure(
          orgId,
          candidate && !locked ? candidate.userId : '',
          settings.maxFailedLogins,
          later(now, settings.lockSeconds),
        );
        const why = !candidate ? 'unknown_email' : locked ? 'account_locked' : 'wrong_password';
        logger.info({ orgId, userId: candidate?.userId, why }, 'admin login refused');
        if (lockedNow)
          logger.warn({ orgId, userId: candidate?.userId }, 'admin account locked after failures');
        throw invalidCredentials();
      }
      if (candidate.disabled || candidate.orgDisabled) {
        logger.info({ orgId, userId: candidate.userId, why: 'disabled' }, 'admin login refused');
        throw invalidCredentials();
      }
      if (candidate.failedLogins > 0 || candidate.lockedUntil)
        await users.recordSuccess(orgId, candidate.userId);

      const refresh = issueRefreshToken(orgId);
      const family: SessionFamily = {
        sessionId: newId('ses'),
        orgId,
        userId: candidate.userId,
        email: candidate.email,
        roles: candidate.roles,
        tier: candidate.tier,
        expiresAt: later(now, settings.sessionMaxAgeSeconds),
        revokedAt: null,
        userDisabled: false,
        orgDisabled: false,
      };
      await sessions.open({
        sessionId: family.sessionId,
        orgId,
        userId: family.userId,
        createdAt: now,
        expiresAt: family.expiresAt,
        tokenHash: refresh.hash,
      });
      logger.info(
        { orgId, userId: family.userId, sessionId: family.sessionId },
        'admin session opened',
      );
      return {
        ...(await issueAccess(family, now)),
        refreshToken: refresh.token,
        principal: adminPrincipal(family, now),
      };
    },

    /**
     * Exchanges a refresh token for a new one and a new access token. A token already used
     * revokes its family (reason refresh_token_reuse) and fails.
     */
    async refresh(refreshToken: string): Promise<IssuedSession> {
      const orgId = refreshTokenOrg(refreshToken);
      if (!orgId) throw invalidRefreshToken();
      const now = clock();
      const next = issueRefreshToken(orgId);
      const result = await sessions.withRefreshToken(
        orgId,
        hashRefreshToken(refreshToken),
        async (family, tx) => {
          if (!family) return { refused: invalidRefreshToken() };
          if (family.tokenUsedAt) {
            await tx.revoke('refresh_token_reuse', now);
            logger.warn(
              { orgId, userId: family.userId, sessionId: family.sessionId },
              'refresh token reused: session revoked',
            );
            return {
              refused: new UnauthenticatedError(
                'refresh_token_reuse',
                'the refresh token was already used; the session has been revoked',
              ),
            };
          }
          const problem = familyProblem(family, now);
          if (problem) return { refused: new UnauthenticatedError(problem, PROBLEMS[problem]) };
          await tx.rotate(next.hash, now);
          return { family };
        },
      );
      if ('refused' in result) throw result.refused;
      return {
        ...(await issueAccess(result.family, now)),
        refreshToken: next.token,
        principal: adminPrincipal(result.family, now),
      };
    },

    /** Revokes the family of a refresh token (used or not). Idempotent. */
    async logout(refreshToken: string): Promise<void> {
      const orgId = refreshTokenOrg(refreshToken);
      if (!orgId) throw invalidRefreshToken();
      const now = clock();
      const family = await sessions.withRefreshToken(
        orgId,
        hashRefreshToken(refreshToken),
        async (found, tx) => {
          if (found) await tx.revoke('logout', now);
          return found;
        },
      );
      if (!family) throw invalidRefreshToken();
      logger.info(
        { orgId, userId: family.userId, sessionId: family.sessionId },
        'admin session logged out',
      );
    },
  };
}

/** The admin session domain. */
export type AdminSessions = ReturnType<typeof createAdminSessions>;
