import { Tier, type Principal } from '@fortress/proto/common/v1/common_pb';
import { PostureStatus } from '@fortress/proto/posture/v1/posture_pb';
import type { DeviceVerdict } from '../adapters/pg/device-store.js';

/** A posture verdict with a reason safe to show the caller. */
export interface PostureVerdict {
  status: PostureStatus;
  code: string;
  message: string;
  verdict?: DeviceVerdict;
}

/** Where cached device verdicts come from. */
export interface VerdictSource {
  validVerdict(orgId: string, deviceId: string): Promise<DeviceVerdict | undefined>;
}

/**
 * Decides device posture. Tiers without device checks get NOT_REQUIRED. Zero Trust needs a
 * device id and a valid compliant verdict; anything less — no device, no verdict (MDM
 * adapters not configured), an unknown tier — is NONCOMPLIANT: fail closed.
 */
export async function checkPosture(
  source: VerdictSource,
  principal: Principal,
): Promise<PostureVerdict> {
  if (principal.tier === Tier.SOHO || principal.tier === Tier.BANK) {
    return {
      status: PostureStatus.NOT_REQUIRED,
      code: 'not_required',
      message: 'no device checks for this tier',
    };
  }
  if (principal.tier !== Tier.ZERO_TRUST) {
    return {
      status: PostureStatus.NONCOMPLIANT,
      code: 'unknown_tier',
      message: 'the organisation has no tier',
    };
  }
  if (!principal.deviceId) {
    return {
      status: PostureStatus.NONCOMPLIANT,
      code: 'no_device_evidence',
      message: 'zero trust requires a managed device, and no device id was presented',
    };
  }
  const verdict = await source.validVerdict(principal.orgId, principal.deviceId);
  if (!verdict) {
    return {
      status: PostureStatus.NONCOMPLIANT,
      code: 'device_unverified',
      message: `device "${principal.deviceId}" has no current compliance verdict from an MDM provider`,
    };
  }
  return verdict.compliant
    ? {
        status: PostureStatus.COMPLIANT,
        code: 'compliant',
        message: 'device is compliant',
        verdict,
      }
    : {
        status: PostureStatus.NONCOMPLIANT,
        code: 'device_noncompliant',
        message: `device failed compliance check: ${verdict.reason ?? 'noncompliant'}`,
        verdict,
      };
}
