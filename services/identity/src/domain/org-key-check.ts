import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import type { KeyLookup } from '../adapters/pg/identity-store.js';
import type { ExchangedTokenLookup } from '../adapters/pg/idp-store.js';
import { authFailure, type AuthRefusal } from './auth-outcome.js';
import { hashOrgKey } from './org-key.js';

/** What authentication needs from the store: keys and Fortress tokens by hash. */
export interface KeyDirectory {
  lookupKey(hash: Buffer): Promise<KeyLookup | undefined>;
  lookupExchangedToken(hash: Buffer): Promise<ExchangedTokenLookup | undefined>;
}

/** Why a key's org is not usable, if it is not: revoked first, then a disabled org. */
export function keyStateRefusal(
  key: Pick<KeyLookup, 'revoked' | 'orgDisabled' | 'orgId'>,
  revokedMessage = 'the api key has been revoked',
): AuthRefusal | undefined {
  if (key.revoked)
    return authFailure(AuthFailure.REVOKED, 'api_key_revoked', revokedMessage, key.orgId);
  if (key.orgDisabled)
    return authFailure(
      AuthFailure.ORG_DISABLED,
      'org_disabled',
      'the organisation is disabled',
      key.orgId,
    );
  return undefined;
}

/** Looks a well-formed org key up; the stored key, or why it may not be used. */
export async function checkOrgKey(
  directory: Pick<KeyDirectory, 'lookupKey'>,
  apiKey: string,
): Promise<{ ok: true; key: KeyLookup } | AuthRefusal> {
  const key = await directory.lookupKey(hashOrgKey(apiKey));
  if (!key)
    return authFailure(
      AuthFailure.UNKNOWN_CREDENTIAL,
      'invalid_api_key',
      'the api key is not valid',
    );
  return keyStateRefusal(key) ?? { ok: true, key };
}
