import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import type { SessionStore } from '../adapters/pg/session-store.js';
import { verifyAccessToken, type SessionSigningKey } from './access-token.js';
import { authFailure, type AuthOutcome } from './authenticate.js';
import { adminPrincipal, familyProblem, type FamilyProblem } from './session-family.js';

/** What session authentication needs. */
export interface SessionDirectory {
  signingKey: SessionSigningKey;
  sessions: Pick<SessionStore, 'family'>;
}

const invalid = (failure: AuthFailure) =>
  authFailure(failure, 'invalid_session_token', 'the session token is not valid');

const REFUSALS: Record<FamilyProblem, [AuthFailure, string]> = {
  session_revoked: [AuthFailure.REVOKED, 'the session has been revoked'],
  session_expired: [AuthFailure.EXPIRED, 'the session has expired'],
  user_disabled: [AuthFailure.REVOKED, 'the user is disabled'],
  org_disabled: [AuthFailure.ORG_DISABLED, 'the organisation is disabled'],
};

/**
 * Authenticates an admin access token: the JWT must verify (see verifyAccessToken), and its
 * session family must still be live, its user and org enabled. One indexed read per call:
 * the admin plane is low-volume, and revocation then takes effect at once.
 */
export async function authenticateSession(
  directory: SessionDirectory,
  token: string,
  now: Date,
): Promise<AuthOutcome> {
  const verdict = await verifyAccessToken(directory.signingKey, token, now);
  if (!verdict.ok) {
    if (verdict.refusal === 'expired')
      return authFailure(AuthFailure.EXPIRED, 'session_expired', 'the session token has expired');
    return invalid(
      verdict.refusal === 'malformed'
        ? AuthFailure.MALFORMED_CREDENTIAL
        : AuthFailure.UNKNOWN_CREDENTIAL,
    );
  }
  const { claims } = verdict;
  const family = await directory.sessions.family(claims.orgId, claims.sessionId);
  if (!family || family.userId !== claims.userId) return invalid(AuthFailure.UNKNOWN_CREDENTIAL);
  const problem = familyProblem(family, now);
  if (problem) {
    const [failure, message] = REFUSALS[problem];
    return authFailure(failure, problem, message, family.orgId);
  }
  return { ok: true, principal: adminPrincipal(family, now) };
}
