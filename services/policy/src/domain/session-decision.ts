import { PrincipalKind, Tier, type Principal } from '@fortress/proto/common/v1/common_pb';
import { SESSION_CREDENTIAL_REF } from '@fortress/kit/decision-token';
import type { Verdict } from './decide.js';

const deny = (code: string, message: string): Verdict => ({
  allow: false,
  reasons: [{ code, message, ruleId: 'zero-trust-session' }],
  credentialRef: '',
  maxTokensClamp: 0,
  redaction: { kinds: [], custom: [] },
  connectors: [],
});

/**
 * Decides whether a Zero Trust session may be opened: only for a user of a Zero Trust org (an
 * identity verified with the org's IdP) on a device posture found compliant. What the session
 * may then be used for is decided request by request, as always.
 */
export function decideSession(principal: Principal, deviceCompliant: boolean): Verdict {
  if (principal.tier !== Tier.ZERO_TRUST)
    return deny('session_not_applicable', 'only Zero Trust orgs open vault sessions');
  if (principal.kind !== PrincipalKind.USER || !principal.subjectId) {
    return deny(
      'identity_required',
      'a vault session needs a user verified by the identity provider',
    );
  }
  if (!principal.deviceId || !deviceCompliant) {
    return deny('device_noncompliant', 'a vault session needs a device found compliant');
  }
  return {
    allow: true,
    reasons: [
      { code: 'allowed', message: 'identity and device verified', ruleId: 'zero-trust-session' },
    ],
    credentialRef: SESSION_CREDENTIAL_REF,
    maxTokensClamp: 0,
    redaction: { kinds: [], custom: [] },
    connectors: [],
  };
}
