import { errors, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import {
  DECISION_AUDIENCE,
  DECISION_ISSUER,
  SESSION_ACTION,
  SESSION_CREDENTIAL_REF,
  type TokenRefusal,
} from '@fortress/kit/decision-token';

/** The posture verdict a session token must carry. */
export const SESSION_POSTURE = 'compliant';
/** Longest validity a session token may have (it is spent at once; only replay matters). */
const MAX_TOKEN_LIFETIME_S = 60;

/**
 * Remembers the ids of session tokens already spent, until they expire, so that one token
 * opens one session (per replica).
 */
export function createReplayGuard(now: () => number = Date.now) {
  const spent = new Map<string, number>();
  return {
    /** True the first time a token id is seen while it is valid; false for a replay. */
    spend(jti: string, expiresAtS: number): boolean {
      const t = now();
      for (const [id, exp] of spent) if (exp * 1000 < t) spent.delete(id);
      if (spent.has(jti)) return false;
      spent.set(jti, expiresAtS);
      return true;
    },
  };
}

/** What a session token must bind. */
export interface SessionBinding {
  orgId: string;
  subjectId: string;
  deviceId: string;
  requestId: string;
}

/**
 * Verifies a decision token for opening a Zero Trust session. It is a decision token (Ed25519,
 * issuer fortress-policy, audience vault) whose claims bind:
 *   org = the org, sub = the principal's subject, rid = the request id,
 *   act = "vault:session.open", cred = "vault:session",
 *   dev = the device id posture found compliant, pst = "compliant",
 * whose lifetime (exp − iat) is at most 60 seconds, and whose jti was not spent before.
 */
export async function verifySessionToken(
  key: CryptoKey | KeyObject,
  token: string,
  expected: SessionBinding,
  replay: ReturnType<typeof createReplayGuard>,
): Promise<{ ok: true } | { ok: false; refusal: TokenRefusal }> {
  if (!token) return { ok: false, refusal: 'missing' };
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ['EdDSA'],
      issuer: DECISION_ISSUER,
      audience: DECISION_AUDIENCE,
      requiredClaims: ['org', 'cred', 'rid', 'act', 'dev', 'pst', 'exp', 'iat', 'sub', 'jti'],
      clockTolerance: 2,
    });
    const claim = (name: string) => (typeof payload[name] === 'string' ? payload[name] : '');
    const bound =
      claim('org') === expected.orgId &&
      payload.sub === expected.subjectId &&
      claim('rid') === expected.requestId &&
      claim('dev') === expected.deviceId &&
      claim('act') === SESSION_ACTION &&
      claim('cred') === SESSION_CREDENTIAL_REF &&
      claim('pst') === SESSION_POSTURE;
    if (!bound) return { ok: false, refusal: 'wrong_binding' };
    if ((payload.exp ?? 0) - (payload.iat ?? 0) > MAX_TOKEN_LIFETIME_S)
      return { ok: false, refusal: 'invalid' };
    if (!replay.spend(payload.jti ?? '', payload.exp ?? 0))
      return { ok: false, refusal: 'invalid' };
    return { ok: true };
  } catch (err) {
    return { ok: false, refusal: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
