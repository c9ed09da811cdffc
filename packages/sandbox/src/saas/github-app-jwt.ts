/**
 * The check GitHub makes on a GitHub App's JWT before issuing an installation token: RS256
 * signature by the app's key, `iat` not in the future (60 s drift allowed), `exp` in the
 * future and at most 10 minutes ahead, `iss` the app id.
 */
import { verify, type KeyObject } from 'node:crypto';
import type { FakeReply } from './fake-http.js';
import { error, JWT_UNDECODABLE } from './github-wire.js';

/** Checks an app JWT; returns GitHub's refusal, or `undefined` when it is good. */
export function checkAppJwt(
  jwt: string,
  publicKey: KeyObject,
  appId: string,
  nowMs: number,
): FakeReply | undefined {
  const [head, body, signature] = jwt.split('.');
  if (head === undefined || body === undefined || signature === undefined) return JWT_UNDECODABLE;
  let header: { alg?: unknown };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return JWT_UNDECODABLE;
  }
  if (header.alg !== 'RS256') return JWT_UNDECODABLE;
  if (
    !verify(
      'sha256',
      Buffer.from(`${head}.${body}`),
      publicKey,
      Buffer.from(signature, 'base64url'),
    )
  ) {
    return JWT_UNDECODABLE;
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) {
    return error(
      401,
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
    );
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    return error(
      401,
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    );
  }
  if (claims.exp > now + 600)
    return error(401, "'Expiration time' claim ('exp') is too far in the future.");
  if (String(claims.iss) !== appId) return JWT_UNDECODABLE;
  return undefined;
}
