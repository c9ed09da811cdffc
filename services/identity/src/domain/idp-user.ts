import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  PrincipalKind,
  PrincipalSchema,
  type Principal,
} from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { productFromName, tierFromName } from '@fortress/kit/enum-names';
import type { KeyLookup } from '../adapters/pg/identity-store.js';
import { authFailure, type AuthRefusal } from './auth-outcome.js';
import { userFromClaims, type IdpUser } from './idp-claims.js';
import type { IdpConfig } from './idp-config.js';
import type { IdpVerdict } from './idp-token.js';

/** Verifies IdP tokens for an org's configuration (throws UnavailableError without keys). */
export interface IdpVerifier {
  verify(orgId: string, config: IdpConfig, token: string, now: Date): Promise<IdpVerdict>;
}

/** The refusal for an org with no IdP configured: its tokens cannot be checked (fail closed). */
export const idpNotConfigured = (orgId: string): AuthRefusal =>
  authFailure(
    AuthFailure.IDP_TOKEN_INVALID,
    'idp_not_configured',
    'no identity provider is configured for this organisation',
    orgId,
  );

/** A user an IdP token proved, and until when the token is valid. */
export interface VerifiedUser {
  ok: true;
  user: IdpUser;
  expiresAt: Date;
}

/** Verifies an org's IdP token and maps its claims to a user; a refusal names the org. */
export async function verifyUser(
  verifier: IdpVerifier,
  orgId: string,
  config: IdpConfig,
  token: string,
  now: Date,
): Promise<VerifiedUser | AuthRefusal> {
  const verdict = await verifier.verify(orgId, config, token, now);
  if (!verdict.ok)
    return authFailure(AuthFailure.IDP_TOKEN_INVALID, verdict.refusal, verdict.message, orgId);
  const user = userFromClaims(config, verdict.claims);
  if (!user)
    return authFailure(
      AuthFailure.IDP_TOKEN_INVALID,
      'idp_token_invalid',
      `the identity provider token has no usable "${config.userIdClaim}" claim`,
      orgId,
    );
  return { ok: true, user, expiresAt: new Date(verdict.claims.exp * 1000) };
}

/**
 * The USER principal of an org key's user: org, tier, products and PAT key from the key (as
 * stored now), the key's roles plus those the user's groups grant, and who the user is.
 */
export function userPrincipal(
  key: Omit<KeyLookup, 'idp'>,
  user: IdpUser,
  authenticatedAt: Date,
): Principal {
  return create(PrincipalSchema, {
    orgId: key.orgId,
    tier: tierFromName(key.tier),
    kind: PrincipalKind.USER,
    subjectId: user.userId,
    userId: user.userId,
    email: user.email,
    roles: [...new Set([...key.roles, ...user.groupRoles])],
    attributes: user.attributes,
    deviceId: user.deviceId,
    apiKeyId: key.keyId,
    products: key.products.map(productFromName),
    patKeyId: key.patKeyId ?? '',
    patKeyVersion: key.patKeyVersion,
    authenticatedAt: timestampFromDate(authenticatedAt),
  });
}
