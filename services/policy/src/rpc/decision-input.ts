import type { DecideRequest } from '@fortress/proto/policy/v1/policy_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import type { DecisionInput } from '../domain/cedar-request.js';
import type { ResourceType } from '../domain/model.js';

const TYPES = new Set<string>(['model', 'tool', 'admin']);

/** The policy's view of a Decide request; INVALID_ARGUMENT for what no decision can be made on. */
export function decisionInput(
  req: Pick<DecideRequest, 'principal' | 'action' | 'resource' | 'context' | 'maxTokens'>,
  now: Date,
): DecisionInput {
  const principal = req.principal;
  if (!principal?.orgId)
    throw new InvalidArgumentError('principal.org_id', 'principal.org_id is required');
  const type = req.resource?.type ?? '';
  if (!TYPES.has(type))
    throw new InvalidArgumentError(
      'resource.type',
      'resource.type must be "model", "tool" or "admin"',
    );
  return {
    principal,
    action: req.action,
    resourceType: type as ResourceType,
    resourceId: req.resource?.id ?? '',
    destructive: req.resource?.destructive ?? false,
    clientIp: req.context?.clientIp ?? '',
    maxTokens: req.maxTokens,
    now,
  };
}
