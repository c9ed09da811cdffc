import { randomUUID, type KeyObject } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTHeaderParameters } from 'jose';
import { ID_PATTERN } from '@fortress/kit/ids';

/** Who issues admin access tokens. */
export const ACCESS_ISSUER = 'fortress-identity';
/** Who accepts them: the admin plane (through identity's Authenticate). */
export const ACCESS_AUDIENCE = 'fortress-admin';
const ALG = 'EdDSA';
/** RFC 9068's type for JWT access tokens: no other JWT of ours can pass for one. */
const TYP = 'at+jwt';
/** Replicas' clocks may differ a little. */
const CLOCK_TOLERANCE_SECONDS = 2;

/** The Ed25519 key pair that signs access tokens, and its id (the JWT "kid"). */
export interface SessionSigningKey {
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** What an access token says. */
export interface AccessClaims {
  userId: string;
  orgId: string;
  roles: string[];
  sessionId: string;
}

/** Signs an access token valid from `issuedAt` until `expiresAt`. */
export function signAccessToken(
  key: SessionSigningKey,
  claims: AccessClaims,
  issuedAt: Date,
  expiresAt: Date,
): Promise<string> {
  return new SignJWT({ org: claims.orgId, roles: claims.roles, sid: claims.sessionId })
    .setProtectedHeader({ alg: ALG, typ: TYP, kid: key.keyId })
    .setIssuer(ACCESS_ISSUER)
    .setAudience(ACCESS_AUDIENCE)
    .setSubject(claims.userId)
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(key.privateKey);
}

/** Why an access token was refused: not a JWT at all, expired, or not one we issued. */
export type AccessRefusal = 'malformed' | 'expired' | 'invalid';

/** A verified token's claims, or why it was refused. */
export type AccessVerdict =
  { ok: true; claims: AccessClaims } | { ok: false; refusal: AccessRefusal };

const isStrings = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((x) => typeof x === 'string');

/**
 * Verifies an access token: EdDSA only (never "none" or HMAC), signed by our key id, with our
 * issuer, audience and type, not expired at `now`, and carrying well-formed claims.
 */
export async function verifyAccessToken(
  key: SessionSigningKey,
  token: string,
  now: Date,
): Promise<AccessVerdict> {
  const keyFor = (header: JWTHeaderParameters) => {
    if (header.kid !== key.keyId) throw new errors.JWKSNoMatchingKey();
    return key.publicKey;
  };
  try {
    const { payload } = await jwtVerify(token, keyFor, {
      algorithms: [ALG],
      issuer: ACCESS_ISSUER,
      audience: ACCESS_AUDIENCE,
      typ: TYP,
      requiredClaims: ['sub', 'exp', 'iat', 'jti', 'org', 'sid', 'roles'],
      currentDate: now,
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    });
    const { sub, org, sid, roles } = payload;
    if (
      typeof sub !== 'string' ||
      typeof org !== 'string' ||
      typeof sid !== 'string' ||
      !ID_PATTERN.test(org) ||
      !ID_PATTERN.test(sid) ||
      !isStrings(roles)
    ) {
      return { ok: false, refusal: 'invalid' };
    }
    return { ok: true, claims: { userId: sub, orgId: org, sessionId: sid, roles } };
  } catch (err) {
    if (err instanceof errors.JWTExpired) return { ok: false, refusal: 'expired' };
    if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid)
      return { ok: false, refusal: 'malformed' };
    return { ok: false, refusal: 'invalid' };
  }
}
