import type { Principal } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import type { NewExchangedToken } from '../adapters/pg/idp-store.js';
import { authFailure, type AuthRefusal } from './auth-outcome.js';
import type { AuthDeps, Presented } from './authenticate.js';
import { idpNotConfigured, userPrincipal, verifyUser } from './idp-user.js';
import { checkOrgKey } from './org-key-check.js';
import { credentialShape, generateExchangedToken } from './org-key.js';

/** The longest a Fortress token lives, whatever the IdP token's own expiry. */
export const MAX_EXCHANGED_TOKEN_SECONDS = 3600;
/** A token that would live less than this is not worth issuing: the IdP token is expiring. */
const MIN_LIFETIME_MS = 5_000;

/** What an exchange needs beyond authentication: somewhere to keep the token's hash. */
export interface ExchangeDeps extends AuthDeps {
  tokens: { insertExchangedToken(t: NewExchangedToken): Promise<void> };
  /** Lifetime cap of a token (at most MAX_EXCHANGED_TOKEN_SECONDS). */
  maxLifetimeSeconds: number;
}

/** An issued token (shown once), until when it is good, and whom it stands for. */
export type ExchangeOutcome =
  { ok: true; token: string; expiresAt: Date; principal: Principal } | AuthRefusal;

/**
 * Exchanges an org key plus an IdP token for a Fortress token (fk_tok_…), after the checks
 * Authenticate makes: a live key of an enabled org with an IdP configured, and a token that
 * verifies. The token lives until the IdP token expires, and at most an hour; only its
 * SHA-256 is stored, with the org key it was exchanged with and the user's mapped claims.
 */
export async function exchangeToken(
  deps: ExchangeDeps,
  presented: Presented,
): Promise<ExchangeOutcome> {
  if (!presented.apiKey)
    return authFailure(
      AuthFailure.MISSING_CREDENTIAL,
      'missing_api_key',
      'no api key was presented',
    );
  const shape = credentialShape(presented.apiKey);
  if (shape !== 'org_key')
    return authFailure(
      AuthFailure.MALFORMED_CREDENTIAL,
      'malformed_api_key',
      shape === 'exchanged_token'
        ? 'an exchange needs an org key, not a fortress token'
        : 'the api key is not a fortress org key',
    );
  const checked = await checkOrgKey(deps.directory, presented.apiKey);
  if (!checked.ok) return checked;
  const { key } = checked;
  if (!presented.idpToken)
    return authFailure(
      AuthFailure.IDP_TOKEN_REQUIRED,
      'idp_token_required',
      'an exchange needs an identity provider token (Authorization: Bearer) with the org key',
      key.orgId,
    );
  if (!key.idp) return idpNotConfigured(key.orgId);
  const now = deps.now();
  const verified = await verifyUser(deps.idp, key.orgId, key.idp, presented.idpToken, now);
  if (!verified.ok) return verified;
  const refused = await deps.members?.admit(key.orgId, verified.user, key.products, now);
  if (refused) return refused;
  const capSeconds = Math.min(deps.maxLifetimeSeconds, MAX_EXCHANGED_TOKEN_SECONDS);
  const cap = now.getTime() + capSeconds * 1000;
  const expiresAt = new Date(Math.min(verified.expiresAt.getTime(), cap));
  // Within the clock tolerance a just-expired IdP token still verifies; it buys nothing here.
  if (expiresAt.getTime() - now.getTime() < MIN_LIFETIME_MS)
    return authFailure(
      AuthFailure.IDP_TOKEN_INVALID,
      'idp_token_expired',
      'the identity provider token has expired',
      key.orgId,
    );
  const token = generateExchangedToken();
  await deps.tokens.insertExchangedToken({
    hash: token.hash,
    orgId: key.orgId,
    apiKeyId: key.keyId,
    user: verified.user,
    createdAt: now,
    expiresAt,
  });
  return {
    ok: true,
    token: token.secret,
    expiresAt,
    principal: userPrincipal(key, verified.user, now),
  };
}
