/**
 * GitHub App authentication: an RS256 JWT signed with the app's private key (iss = app id,
 * iat 60 s in the past against clock drift, exp 10 minutes after iat as GitHub allows at most)
 * is exchanged at `POST /app/installations/{id}/access_tokens` for an installation token,
 * which is cached until five minutes before its `expires_at`.
 */
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { joinUrl } from '../request-template.js';
import type { AuthScheme, CredentialMaterial } from '../types.js';
import { exchange, TransportError } from '../vendor-http.js';
import { CredentialUnusable, fieldText, secretText, type AuthContext } from './auth-context.js';
import { tokenCacheKey } from './token-cache.js';

type AppScheme = Extract<AuthScheme, { scheme: 'github_app' }>;

/** Stop using an installation token this long before GitHub's expiry. */
const EXPIRY_MARGIN_MS = 5 * 60_000;
/** Used when GitHub's answer carries no readable expiry (tokens live one hour). */
const DEFAULT_LIFETIME_MS = 55 * 60_000;

/** Signs the app JWT GitHub asks for. */
export function signAppJwt(privateKey: KeyObject, appId: string, nowMs: number): string {
  const iat = Math.floor(nowMs / 1000) - 60;
  const header = { alg: 'RS256', typ: 'JWT' };
  const payload = { iat, exp: iat + 600, iss: /^\d+$/.test(appId) ? Number(appId) : appId };
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

function parseKey(material: CredentialMaterial): KeyObject {
  try {
    // GitHub hands out PKCS#1 PEM; PKCS#8 works too.
    return createPrivateKey({ key: secretText(material), format: 'pem' });
  } catch {
    throw new CredentialUnusable('the GitHub App private key is not a readable PEM RSA key');
  }
}

/** An installation token for the app credential, from the cache unless `fresh` is asked for. */
export async function installationToken(
  scheme: AppScheme,
  material: CredentialMaterial,
  ctx: AuthContext,
  fresh: boolean,
): Promise<string> {
  const appId = fieldText(material, 'app_id');
  const installationId =
    fieldText(material, 'installation_id') || (ctx.settings['installationId'] ?? '');
  if (!/^\d+$/.test(appId) || !/^\d+$/.test(installationId)) {
    throw new CredentialUnusable(
      'the GitHub App credential needs a numeric app_id and installation_id',
    );
  }
  const key = tokenCacheKey(ctx.instance.id, ctx.instance.baseUrl, [
    material.secret,
    new TextEncoder().encode(`${appId}/${installationId}`),
  ]);
  if (fresh) ctx.tokenCache?.delete(key);
  const cached = ctx.tokenCache?.get(key, ctx.now());
  if (cached !== undefined) {
    ctx.secrets.add(cached.token);
    return cached.token;
  }

  const jwt = signAppJwt(parseKey(material), appId, ctx.now());
  ctx.secrets.add(jwt);
  const url = joinUrl(
    ctx.instance.baseUrl,
    scheme.tokenPath.replace('{installation_id}', installationId),
  );
  let response;
  try {
    response = await exchange(
      ctx.fetch,
      {
        method: 'POST',
        url,
        headers: {
          accept: 'application/vnd.github+json',
          authorization: `Bearer ${jwt}`,
          'x-github-api-version': ctx.settings['apiVersion'] ?? '2022-11-28',
          'user-agent': 'fortress-gateway',
        },
      },
      ctx.signal,
    );
  } catch (err: unknown) {
    if (err instanceof TransportError) {
      throw new CredentialUnusable(
        `GitHub could not be reached for an installation token: ${err.message}`,
      );
    }
    throw err;
  }
  const body = (
    typeof response.body === 'object' && response.body !== null ? response.body : {}
  ) as Record<string, unknown>;
  const token = body['token'];
  if (response.status !== 201 || typeof token !== 'string' || token === '') {
    const message = typeof body['message'] === 'string' ? body['message'] : 'no message';
    throw new CredentialUnusable(
      `GitHub refused the app credentials (${response.status}): ${message}`,
    );
  }
  ctx.secrets.add(token);
  const expiresAt = Date.parse(typeof body['expires_at'] === 'string' ? body['expires_at'] : '');
  const useUntil = Number.isFinite(expiresAt)
    ? expiresAt - EXPIRY_MARGIN_MS
    : ctx.now() + DEFAULT_LIFETIME_MS;
  ctx.tokenCache?.set(key, { token, useUntil });
  return token;
}
