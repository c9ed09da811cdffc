import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import { DecideResponseSchema, type PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import { signDecisionToken } from '@fortress/kit/decision-token';
import { InvalidArgumentError } from '@fortress/kit/errors';
import type { CryptoKey, KeyObject } from 'jose';
import { decide, type Authorize } from '../domain/decide.js';
import type { PolicyCache } from '../domain/policy-cache.js';

/** What Decide needs. */
export interface PolicyRpcDeps {
  cache: PolicyCache;
  authorize: Authorize;
  signingKey: { key: CryptoKey | KeyObject; keyId: string };
  tokenTtlSeconds: number;
}

/** The PolicyService handlers: decisions on the request path. */
export function createPolicyRpc(deps: PolicyRpcDeps): Partial<ServiceImpl<typeof PolicyService>> {
  return {
    async decide(req) {
      const principal = req.principal;
      if (!principal?.orgId)
        throw new InvalidArgumentError('principal.org_id', 'principal.org_id is required');
      const requestId = req.context?.requestId;
      if (!requestId)
        throw new InvalidArgumentError('context.request_id', 'context.request_id is required');
      const version = await deps.cache.ensure(principal.orgId);
      const verdict = decide(
        {
          principal,
          action: req.action,
          resourceType: req.resource?.type ?? '',
          resourceId: req.resource?.id ?? '',
        },
        deps.authorize,
      );
      if (!verdict.allow) {
        return create(DecideResponseSchema, {
          decision: Decision.DENY,
          reasons: verdict.reasons,
          policyVersion: String(version),
        });
      }
      const token = await signDecisionToken(
        deps.signingKey.key,
        deps.signingKey.keyId,
        {
          orgId: principal.orgId,
          subjectId: principal.subjectId,
          credentialRef: verdict.credentialRef,
          requestId,
          action: req.action,
        },
        deps.tokenTtlSeconds,
      );
      return create(DecideResponseSchema, {
        decision: Decision.ALLOW,
        reasons: verdict.reasons,
        obligations: { credentialRef: verdict.credentialRef },
        decisionToken: token,
        policyVersion: String(version),
      });
    },
  };
}
