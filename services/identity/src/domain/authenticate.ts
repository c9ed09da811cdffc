import type { MemberAdmission } from './member-admission.js';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { PrincipalKind, PrincipalSchema, Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { productFromName, tierFromName } from '@fortress/kit/enum-names';
import type { KeyLookup } from '../adapters/pg/identity-store.js';
import { authFailure, type AuthOutcome } from './auth-outcome.js';
import { authenticateExchanged } from './authenticate-exchanged.js';
import { idpNotConfigured, userPrincipal, verifyUser, type IdpVerifier } from './idp-user.js';
import { checkOrgKey, type KeyDirectory } from './org-key-check.js';
import { credentialShape } from './org-key.js';

export { authFailure, type AuthOutcome } from './auth-outcome.js';
export type { KeyDirectory } from './org-key-check.js';

/** A presented credential set. */
export interface Presented {
  apiKey: string;
  idpToken: string;
}

/** What authentication needs: the key store, the IdP verifier and the clock. */
export interface AuthDeps {
  directory: KeyDirectory;
  idp: IdpVerifier;
  now: () => Date;
  /** Admits IdP users as members (seats) and refuses deactivated ones. */
  members?: MemberAdmission;
}

/** The ORG_KEY principal of a key with no user behind it. */
function keyPrincipal(key: KeyLookup, now: Date) {
  return create(PrincipalSchema, {
    orgId: key.orgId,
    tier: tierFromName(key.tier),
    kind: PrincipalKind.ORG_KEY,
    subjectId: key.keyId,
    apiKeyId: key.keyId,
    roles: key.roles,
    products: key.products.map(productFromName),
    patKeyId: key.patKeyId ?? '',
    patKeyVersion: key.patKeyVersion,
    authenticatedAt: timestampFromDate(now),
  });
}

/**
 * Authenticates an org key, with an IdP token beside it, or a Fortress token alone.
 *
 * - Bank and Zero Trust orgs need a verified IdP token with the key: without one, or without
 *   an IdP configured for the org, they fail closed. With one, the caller is the USER.
 * - A SOHO org needs none. When it has an IdP configured and a token is presented, the token
 *   is verified all the same (a bad one is refused, a good one makes the caller the USER); a
 *   token presented to a SOHO org without an IdP is ignored, as it always was.
 * - An IdP whose keys cannot be fetched throws UnavailableError: the edge fails closed (503),
 *   it does not tell the user their token is bad.
 */
export async function authenticate(deps: AuthDeps, presented: Presented): Promise<AuthOutcome> {
  if (!presented.apiKey) {
    return authFailure(
      AuthFailure.MISSING_CREDENTIAL,
      'missing_api_key',
      'no api key was presented',
    );
  }
  const shape = credentialShape(presented.apiKey);
  if (!shape) {
    return authFailure(
      AuthFailure.MALFORMED_CREDENTIAL,
      'malformed_api_key',
      'the api key is not a fortress org key',
    );
  }
  if (shape === 'exchanged_token')
    return authenticateExchanged(deps.directory, presented, deps.now(), deps.members);
  const checked = await checkOrgKey(deps.directory, presented.apiKey);
  if (!checked.ok) return checked;
  const { key } = checked;
  const tier = tierFromName(key.tier);
  const required = tier === Tier.BANK || tier === Tier.ZERO_TRUST;
  if (required && !presented.idpToken) {
    return authFailure(
      AuthFailure.IDP_TOKEN_REQUIRED,
      'idp_token_required',
      'this organisation requires an identity provider token (Authorization: Bearer) with the api key',
      key.orgId,
    );
  }
  if (required && !key.idp) {
    return idpNotConfigured(key.orgId);
  }
  const now = deps.now();
  if (key.idp && presented.idpToken) {
    const verified = await verifyUser(deps.idp, key.orgId, key.idp, presented.idpToken, now);
    if (!verified.ok) return verified;
    const refused = await deps.members?.admit(key.orgId, verified.user, key.products, now);
    if (refused) return refused;
    return { ok: true, principal: userPrincipal(key, verified.user, now) };
  }
  return { ok: true, principal: keyPrincipal(key, now) };
}
