/**
 * Salesforce's OAuth username-password flow: username, password (with the security token
 * appended where the org wants one), client id and secret buy a session token. There is no
 * refresh token, so the session is cached and a 401 logs in again.
 */
import type { AuthScheme, CredentialMaterial } from '../types.js';
import { exchange, TransportError } from '../vendor-http.js';
import {
  CredentialUnusable,
  fieldText,
  oauthErrorOf,
  secretText,
  type AuthContext,
} from './auth-context.js';
import { tokenUrlOf } from './oauth-refresh.js';
import { tokenCacheKey } from './token-cache.js';

type PasswordScheme = Extract<AuthScheme, { scheme: 'oauth2_password' }>;

/** How long a session is used before logging in again when the vendor gives no lifetime. */
const SESSION_REUSE_MS = 30 * 60_000;

/** A session token for the username/password credential, cached unless `fresh` is asked for. */
export async function passwordGrantToken(
  scheme: PasswordScheme,
  material: CredentialMaterial,
  ctx: AuthContext,
  fresh: boolean,
): Promise<string> {
  const key = tokenCacheKey(ctx.instance.id, ctx.instance.baseUrl, [
    material.secret,
    ...Object.values(material.fields),
  ]);
  if (fresh) ctx.tokenCache?.delete(key);
  const cached = ctx.tokenCache?.get(key, ctx.now());
  if (cached !== undefined) {
    ctx.secrets.add(cached.token);
    return cached.token;
  }
  const form = new URLSearchParams({
    grant_type: 'password',
    client_id: fieldText(material, 'client_id'),
    client_secret: fieldText(material, 'client_secret'),
    username: fieldText(material, 'username'),
    password: secretText(material),
  });
  let response;
  try {
    response = await exchange(
      ctx.fetch,
      {
        method: 'POST',
        url: tokenUrlOf(scheme.tokenUrl, ctx),
        headers: {
          accept: 'application/json',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: form.toString(),
      },
      ctx.signal,
    );
  } catch (err: unknown) {
    if (err instanceof TransportError) {
      throw new CredentialUnusable(
        `the ${ctx.def.title} token endpoint could not be reached: ${err.message}`,
      );
    }
    throw err;
  }
  const body = (
    typeof response.body === 'object' && response.body !== null ? response.body : {}
  ) as Record<string, unknown>;
  const token = body['access_token'];
  if (response.status >= 300 || typeof token !== 'string' || token === '') {
    throw new CredentialUnusable(
      `${ctx.def.title} refused the login (${response.status}): ${oauthErrorOf(response.body)}`,
    );
  }
  ctx.secrets.add(token);
  ctx.tokenCache?.set(key, { token, useUntil: ctx.now() + SESSION_REUSE_MS });
  return token;
}
