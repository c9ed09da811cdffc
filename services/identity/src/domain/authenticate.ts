import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  PrincipalKind,
  PrincipalSchema,
  ReasonSchema,
  Tier,
  type Principal,
  type Reason,
} from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { productFromName, tierFromName } from '@fortress/kit/enum-names';
import type { KeyLookup } from '../adapters/pg/identity-store.js';
import { hashOrgKey, isWellFormedOrgKey } from './org-key.js';

/** The result of authenticating a request: a principal, or a failure with a safe reason. */
export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; failure: AuthFailure; reason: Reason; orgId?: string };

/** What authentication needs from the store. */
export interface KeyDirectory {
  lookupKey(hash: Buffer): Promise<KeyLookup | undefined>;
}

/** A presented credential set. */
export interface Presented {
  apiKey: string;
  idpToken: string;
}

/** A failed outcome with a safe reason; `orgId` when the org is known (to audit under it). */
export const authFailure = (
  failure: AuthFailure,
  code: string,
  message: string,
  orgId?: string,
): AuthOutcome => ({
  ok: false,
  failure,
  reason: create(ReasonSchema, { code, message, ruleId: 'identity' }),
  ...(orgId ? { orgId } : {}),
});

/**
 * Authenticates an org key. Bank and Zero Trust orgs also need a verified IdP token; until
 * IdP validation is configured for an org, their requests fail closed.
 */
export async function authenticate(
  directory: KeyDirectory,
  presented: Presented,
): Promise<AuthOutcome> {
  if (!presented.apiKey) {
    return authFailure(
      AuthFailure.MISSING_CREDENTIAL,
      'missing_api_key',
      'no api key was presented',
    );
  }
  if (!isWellFormedOrgKey(presented.apiKey)) {
    return authFailure(
      AuthFailure.MALFORMED_CREDENTIAL,
      'malformed_api_key',
      'the api key is not a fortress org key',
    );
  }
  const key = await directory.lookupKey(hashOrgKey(presented.apiKey));
  if (!key) {
    return authFailure(
      AuthFailure.UNKNOWN_CREDENTIAL,
      'invalid_api_key',
      'the api key is not valid',
    );
  }
  if (key.revoked) {
    return authFailure(
      AuthFailure.REVOKED,
      'api_key_revoked',
      'the api key has been revoked',
      key.orgId,
    );
  }
  if (key.orgDisabled) {
    return authFailure(
      AuthFailure.ORG_DISABLED,
      'org_disabled',
      'the organisation is disabled',
      key.orgId,
    );
  }
  const tier = tierFromName(key.tier);
  if (tier === Tier.BANK || tier === Tier.ZERO_TRUST) {
    if (!presented.idpToken) {
      return authFailure(
        AuthFailure.IDP_TOKEN_REQUIRED,
        'idp_token_required',
        'this organisation requires an identity provider token (Authorization: Bearer) with the api key',
        key.orgId,
      );
    }
    return authFailure(
      AuthFailure.IDP_TOKEN_INVALID,
      'idp_not_configured',
      'no identity provider is configured for this organisation',
      key.orgId,
    );
  }
  return {
    ok: true,
    principal: create(PrincipalSchema, {
      orgId: key.orgId,
      tier,
      kind: PrincipalKind.ORG_KEY,
      subjectId: key.keyId,
      apiKeyId: key.keyId,
      roles: key.roles,
      products: key.products.map(productFromName),
      patKeyId: key.patKeyId ?? '',
      patKeyVersion: key.patKeyVersion,
      authenticatedAt: timestampNow(),
    }),
  };
}
