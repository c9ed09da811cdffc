import { create } from '@bufbuild/protobuf';
import { timestampFromDate, timestampNow } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { CheckResponseSchema, type PostureService } from '@fortress/proto/posture/v1/posture_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { checkPosture, type VerdictSource } from '../domain/check-posture.js';

/** The PostureService handlers. */
export function createPostureRpc(deps: {
  source: VerdictSource;
}): Partial<ServiceImpl<typeof PostureService>> {
  return {
    async check(req) {
      if (!req.principal?.orgId)
        throw new InvalidArgumentError('principal.org_id', 'principal.org_id is required');
      const v = await checkPosture(deps.source, req.principal);
      return create(CheckResponseSchema, {
        status: v.status,
        reason: { code: v.code, message: v.message, ruleId: 'posture' },
        deviceId: req.principal.deviceId,
        checkedAt: v.verdict ? timestampFromDate(v.verdict.lastCheckedAt) : timestampNow(),
        ...(v.verdict ? { validUntil: timestampFromDate(v.verdict.validUntil) } : {}),
      });
    },
  };
}
