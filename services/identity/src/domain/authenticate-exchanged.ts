import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { authFailure, type AuthOutcome } from './auth-outcome.js';
import { userPrincipal } from './idp-user.js';
import { keyStateRefusal, type KeyDirectory } from './org-key-check.js';
import { hashOrgKey } from './org-key.js';
import type { MemberAdmission } from './member-admission.js';

/**
 * Authenticates a Fortress token (fk_tok_…) as the USER principal it was exchanged for. It is
 * good while unexpired and while its org key is not revoked — the key's state is read at each
 * use, so revoking the key ends every token exchanged with it at once. It stands alone: an
 * IdP token beside it is refused as ambiguous rather than silently ignored.
 */
export async function authenticateExchanged(
  directory: Pick<KeyDirectory, 'lookupExchangedToken'>,
  presented: { apiKey: string; idpToken: string },
  now: Date,
  members?: MemberAdmission,
): Promise<AuthOutcome> {
  if (presented.idpToken)
    return authFailure(
      AuthFailure.MALFORMED_CREDENTIAL,
      'ambiguous_credentials',
      'present a fortress token alone: it already stands for a verified identity provider token',
    );
  const token = await directory.lookupExchangedToken(hashOrgKey(presented.apiKey));
  if (!token)
    return authFailure(
      AuthFailure.UNKNOWN_CREDENTIAL,
      'invalid_api_key',
      'the fortress token is not valid',
    );
  const refused = keyStateRefusal(
    token,
    'the org key this fortress token was exchanged with has been revoked',
  );
  if (refused) return refused;
  if (token.expiresAt.getTime() <= now.getTime())
    return authFailure(
      AuthFailure.EXPIRED,
      'fortress_token_expired',
      'the fortress token has expired; exchange a new one',
      token.orgId,
    );
  // A member deactivated after the exchange stops here, before the token expires.
  const deactivated = await members?.admit(token.orgId, token.user, token.products, now);
  if (deactivated) return deactivated;
  return { ok: true, principal: userPrincipal(token, token.user, now) };
}
