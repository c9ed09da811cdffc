import { createHash, randomBytes } from 'node:crypto';

/**
 * `frt_<org id>.<32 random bytes, base64url>`. The org id is not secret (the access token
 * carries it too) and lets every lookup run inside that tenant's row-level security; it is
 * part of what is hashed, so it cannot be swapped for another org's.
 */
const TOKEN_PATTERN = /^frt_([a-z]{1,12}_[A-Za-z0-9]{1,64})\.[A-Za-z0-9_-]{43}$/;

/** A freshly issued refresh token: the token (given to the client once) and what is stored. */
export interface IssuedRefreshToken {
  token: string;
  hash: Buffer;
}

/** Issues a refresh token for an org. */
export function issueRefreshToken(orgId: string): IssuedRefreshToken {
  const token = `frt_${orgId}.${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashRefreshToken(token) };
}

/** The org a well-formed refresh token names, or undefined when it is not one of ours. */
export function refreshTokenOrg(token: string): string | undefined {
  return TOKEN_PATTERN.exec(token)?.[1];
}

/** SHA-256 of the whole token: 256 random bits need no slow hash. */
export function hashRefreshToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
