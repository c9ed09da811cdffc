/**
 * The token side of an OAuth 2 authorization server, shared by the fakes that have one:
 * refresh tokens buy short-lived access tokens; rotating vendors replace the refresh token on
 * every use. Controls let a test expire every access token or revoke every refresh token.
 */
import { randomBytes } from 'node:crypto';

/** A registered OAuth client. */
export interface OAuthClient {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** Options of {@link createOAuthIssuer}. */
export interface OAuthIssuerOptions {
  readonly clients: readonly OAuthClient[];
  /** Refresh tokens valid from the start. */
  readonly refreshTokens: readonly string[];
  /** Access tokens valid from the start (they expire like issued ones). */
  readonly accessTokens?: readonly string[];
  /** Lifetime of issued access tokens. */
  readonly ttlSeconds: number;
  /** Whether a refresh token is replaced by a new one each time it is used. */
  readonly rotate: boolean;
  /** Prefix of issued tokens, in the vendor's style. */
  readonly prefix: string;
}

/** What a refresh came to. */
export type RefreshResult =
  | { ok: true; accessToken: string; refreshToken: string; expiresIn: number }
  | { ok: false; error: 'invalid_client' | 'invalid_grant' };

/** An OAuth token issuer. */
export interface OAuthIssuer {
  /** The refresh-token grant. */
  refresh(clientId: string, clientSecret: string, refreshToken: string): RefreshResult;
  /** Issues an access token without a grant (password flows, app installations). */
  issue(): { accessToken: string; expiresIn: number };
  /** Whether an access token is current. */
  accepts(accessToken: string): boolean;
  /** Whether the token was issued here at some point (expired ones included). */
  knows(accessToken: string): boolean;
  /** Whether a client id and secret are registered. */
  clientValid(clientId: string, clientSecret: string): boolean;
  /** Makes every access token issued so far expired. */
  expireAccessTokens(): void;
  /** Revokes every refresh token (the user disconnected the app). */
  revokeRefreshTokens(): void;
  /** How many refresh grants succeeded. */
  readonly refreshes: number;
}

/** Creates a token issuer. */
export function createOAuthIssuer(options: OAuthIssuerOptions): OAuthIssuer {
  const access = new Map<string, number>();
  const refreshTokens = new Set(options.refreshTokens);
  let refreshes = 0;
  const mint = () => `${options.prefix}${randomBytes(24).toString('base64url')}`;
  for (const token of options.accessTokens ?? [])
    access.set(token, Date.now() + options.ttlSeconds * 1000);

  const issue = () => {
    const accessToken = mint();
    access.set(accessToken, Date.now() + options.ttlSeconds * 1000);
    return { accessToken, expiresIn: options.ttlSeconds };
  };
  const clientValid = (clientId: string, clientSecret: string) =>
    options.clients.some((c) => c.clientId === clientId && c.clientSecret === clientSecret);

  return {
    refresh(clientId, clientSecret, refreshToken) {
      if (!clientValid(clientId, clientSecret)) return { ok: false, error: 'invalid_client' };
      if (!refreshTokens.has(refreshToken)) return { ok: false, error: 'invalid_grant' };
      let next = refreshToken;
      if (options.rotate) {
        refreshTokens.delete(refreshToken);
        next = `${options.prefix}r-${randomBytes(24).toString('base64url')}`;
        refreshTokens.add(next);
      }
      refreshes += 1;
      return { ok: true, ...issue(), refreshToken: next };
    },
    issue,
    accepts: (token) => (access.get(token) ?? 0) > Date.now(),
    knows: (token) => access.has(token),
    clientValid,
    expireAccessTokens: () => {
      for (const token of access.keys()) access.set(token, 0);
    },
    revokeRefreshTokens: () => refreshTokens.clear(),
    get refreshes() {
      return refreshes;
    },
  };
}
