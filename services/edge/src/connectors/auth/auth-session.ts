/**
 * The credential side of one tool call: the headers that authenticate each request, and one
 * recovery after the vendor refuses them (OAuth refresh, a new installation token or login).
 * A second refusal is final: the call reports the connector unavailable.
 */
import type { AuthScheme, CredentialMaterial } from '../types.js';
import {
  CredentialUnusable,
  fieldText,
  registerSecrets,
  secretText,
  type AuthContext,
} from './auth-context.js';
import { installationToken } from './github-app.js';
import { needsRefresh, refreshAccessToken } from './oauth-refresh.js';
import { passwordGrantToken } from './password-grant.js';

/** Authentication state for one call. */
export interface AuthSession {
  /** Headers that authenticate the next request; throws `CredentialUnusable`. */
  headers(): Promise<Record<string, string>>;
  /** After a refusal: gets fresh material once. `true` means retry the request. */
  recover(): Promise<boolean>;
  /** The new OAuth material when a refresh happened during the call. */
  refreshed(): CredentialMaterial | undefined;
}

/** Starts the auth session for a credential; throws `CredentialUnusable` for a kind not accepted. */
export function createAuthSession(ctx: AuthContext, credential: CredentialMaterial): AuthSession {
  const scheme: AuthScheme | undefined = ctx.def.auth[credential.kind];
  if (scheme === undefined) {
    throw new CredentialUnusable(
      `${ctx.def.title} does not accept "${credential.kind}" credentials`,
    );
  }
  registerSecrets(ctx.secrets, credential);
  let material = credential;
  let refreshed: CredentialMaterial | undefined;
  let recovered = false;

  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function headers(fresh: boolean): Promise<Record<string, string>> {
    switch (scheme?.scheme) {
      case 'bearer':
        return bearer(secretText(material));
      case 'basic': {
        const user = fieldText(material, 'username');
        if (user === '')
          throw new CredentialUnusable(`the ${ctx.def.title} credential needs a username`);
        const name = scheme.user === 'username/token' ? `${user}/token` : user;
        const encoded = Buffer.from(`${name}:${secretText(material)}`, 'utf8').toString('base64');
        ctx.secrets.add(encoded);
        return { authorization: `Basic ${encoded}` };
      }
      case 'oauth2_refresh':
        if (fresh || needsRefresh(material, ctx.now())) {
          material = await refreshAccessToken(scheme, material, ctx);
          refreshed = material;
        }
        return bearer(secretText(material));
      case 'oauth2_password':
        return bearer(await passwordGrantToken(scheme, material, ctx, fresh));
      case 'github_app':
        return bearer(await installationToken(scheme, material, ctx, fresh));
      default:
        throw new CredentialUnusable(`${ctx.def.title} has no usable auth scheme`);
    }
  }

  let pendingFresh = false;
  return {
    headers: () => {
      const fresh = pendingFresh;
      pendingFresh = false;
      return headers(fresh);
    },
    recover: () => {
      // Without a refresh token there is nothing to renew: the vendor's refusal is the news.
      const renewable =
        (scheme.scheme === 'oauth2_refresh' && fieldText(material, 'refresh_token') !== '') ||
        scheme.scheme === 'oauth2_password' ||
        scheme.scheme === 'github_app';
      // A refresh earlier in this call already proved the new token; refusing it is final.
      if (!renewable || recovered || refreshed !== undefined) return Promise.resolve(false);
      recovered = true;
      pendingFresh = true;
      return Promise.resolve(true);
    },
    refreshed: () => refreshed,
  };
}
