/**
 * OAuth 2 refresh-token grant (RFC 6749 §6) for connectors holding user-delegated tokens
 * (Zendesk, Slack token rotation, Jira, Salesforce, QuickBooks). The new access token, and the
 * new refresh token where the vendor rotates them, become a new credential for the caller to
 * store; the old refresh token may already be dead, so it is returned even if the call fails.
 */
import { joinUrl } from '../request-template.js';
import type { AuthScheme, CredentialMaterial } from '../types.js';
import { exchange, TransportError } from '../vendor-http.js';
import { CredentialUnusable, fieldText, oauthErrorOf, type AuthContext } from './auth-context.js';

type RefreshScheme = Extract<AuthScheme, { scheme: 'oauth2_refresh' }>;

/** Refresh this long before `expires_at`, so a token does not expire in flight. */
export const EXPIRY_SKEW_MS = 60_000;

/** The token endpoint: the `tokenUrl` setting, else the scheme's default. */
export function tokenUrlOf(template: string, ctx: AuthContext): URL {
  const configured = ctx.settings['tokenUrl'];
  if (configured) return new URL(configured);
  if (template.startsWith('{baseUrl}'))
    return joinUrl(ctx.instance.baseUrl, template.slice('{baseUrl}'.length));
  return new URL(template);
}

/** Whether the access token is missing or expires within the skew. */
export function needsRefresh(material: CredentialMaterial, now: number): boolean {
  if (material.secret.length === 0) return true;
  const expiresAt = Number(fieldText(material, 'expires_at'));
  return (
    fieldText(material, 'expires_at') !== '' &&
    Number.isFinite(expiresAt) &&
    expiresAt - EXPIRY_SKEW_MS <= now
  );
}

/** Exchanges the refresh token for a new access token. */
export async function refreshAccessToken(
  scheme: RefreshScheme,
  material: CredentialMaterial,
  ctx: AuthContext,
): Promise<CredentialMaterial> {
  const title = ctx.def.title;
  const refreshToken = fieldText(material, 'refresh_token');
  if (refreshToken === '') {
    throw new CredentialUnusable(
      `the ${title} access token has expired and no refresh token is stored`,
    );
  }
  const clientId = fieldText(material, 'client_id');
  const clientSecret = fieldText(material, 'client_secret');
  const params: Record<string, string> = {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
  };
  const headers: Record<string, string> = { accept: 'application/json' };
  if (scheme.clientAuth === 'basic') {
    const basic = Buffer.from(`${clientId}:${clientSecret}`, 'utf8').toString('base64');
    ctx.secrets.add(basic);
    headers['authorization'] = `Basic ${basic}`;
  } else {
    if (clientId) params['client_id'] = clientId;
    if (clientSecret) params['client_secret'] = clientSecret;
  }
  let body: string;
  if (scheme.encoding === 'json') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(params);
  } else {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = new URLSearchParams(params).toString();
  }

  let response;
  try {
    response = await exchange(
      ctx.fetch,
      { method: 'POST', url: tokenUrlOf(scheme.tokenUrl, ctx), headers, body },
      ctx.signal,
    );
  } catch (err: unknown) {
    if (err instanceof TransportError) {
      throw new CredentialUnusable(
        `the ${title} token endpoint could not be reached: ${err.message}`,
      );
    }
    throw err;
  }
  const answer = (
    typeof response.body === 'object' && response.body !== null ? response.body : {}
  ) as Record<string, unknown>;
  const accessToken = answer['access_token'];
  if (response.status >= 300 || typeof accessToken !== 'string' || accessToken === '') {
    throw new CredentialUnusable(
      `${title} refused the token refresh (${response.status}): ${oauthErrorOf(response.body)}`,
    );
  }
  ctx.secrets.add(accessToken);
  const fields: Record<string, Uint8Array> = { ...material.fields };
  const rotated = answer['refresh_token'];
  if (typeof rotated === 'string' && rotated !== '') {
    ctx.secrets.add(rotated);
    fields['refresh_token'] = new TextEncoder().encode(rotated);
  }
  const expiresIn = Number(answer['expires_in']);
  if (Number.isFinite(expiresIn) && expiresIn > 0) {
    fields['expires_at'] = new TextEncoder().encode(String(ctx.now() + expiresIn * 1000));
  } else {
    // Salesforce sends no lifetime: the token is used until the API answers 401.
    delete fields['expires_at'];
  }
  return { kind: 'oauth2', secret: new TextEncoder().encode(accessToken), fields };
}
