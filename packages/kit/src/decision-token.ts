import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type CryptoKey, type KeyObject } from 'jose';

/** The audience of every decision token: only the vault accepts them. */
export const DECISION_AUDIENCE = 'vault';
/** The issuer of every decision token. */
export const DECISION_ISSUER = 'fortress-policy';
const ALG = 'EdDSA';
/** The action policy decides before the vault opens a Zero Trust session. */
export const SESSION_ACTION = 'vault:session.open';
/** What a session's decision token binds instead of one credential: the org's session key. */
export const SESSION_CREDENTIAL_REF = 'vault:session';

/** What a decision token binds: who, which credential, for which request. */
export interface DecisionBinding {
  orgId: string;
  subjectId: string;
  credentialRef: string;
  requestId: string;
  action: string;
}

type Key = CryptoKey | KeyObject;

/**
 * Signs a decision token (Ed25519) that expires after `ttlSeconds`. `extra` adds claims a
 * particular audience checks (e.g. the device and posture of a Zero Trust session).
 */
export async function signDecisionToken(
  key: Key,
  keyId: string,
  binding: DecisionBinding,
  ttlSeconds: number,
  extra: Record<string, string> = {},
): Promise<string> {
  return new SignJWT({
    ...extra,
    org: binding.orgId,
    cred: binding.credentialRef,
    rid: binding.requestId,
    act: binding.action,
  })
    .setProtectedHeader({ alg: ALG, kid: keyId })
    .setIssuer(DECISION_ISSUER)
    .setAudience(DECISION_AUDIENCE)
    .setSubject(binding.subjectId)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/** Why a decision token was refused; safe to show. */
export type TokenRefusal = 'missing' | 'expired' | 'invalid' | 'wrong_binding';

/**
 * Verifies a decision token's signature, issuer, audience and expiry, and that it binds
 * exactly the org, credential and request the caller asks about.
 */
export async function verifyDecisionToken(
  key: Key,
  token: string,
  expected: Pick<DecisionBinding, 'orgId' | 'credentialRef' | 'requestId'>,
): Promise<{ ok: true; binding: DecisionBinding } | { ok: false; refusal: TokenRefusal }> {
  if (!token) return { ok: false, refusal: 'missing' };
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALG],
      issuer: DECISION_ISSUER,
      audience: DECISION_AUDIENCE,
      requiredClaims: ['org', 'cred', 'rid', 'exp', 'sub'],
      clockTolerance: 2,
    });
    const binding: DecisionBinding = {
      orgId: typeof payload['org'] === 'string' ? payload['org'] : '',
      credentialRef: typeof payload['cred'] === 'string' ? payload['cred'] : '',
      requestId: typeof payload['rid'] === 'string' ? payload['rid'] : '',
      action: typeof payload['act'] === 'string' ? payload['act'] : '',
      subjectId: payload.sub ?? '',
    };
    if (
      binding.orgId !== expected.orgId ||
      binding.credentialRef !== expected.credentialRef ||
      binding.requestId !== expected.requestId
    ) {
      return { ok: false, refusal: 'wrong_binding' };
    }
    return { ok: true, binding };
  } catch (err) {
    return { ok: false, refusal: err instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
