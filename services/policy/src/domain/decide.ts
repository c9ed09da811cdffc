import { Product, type Principal } from '@fortress/proto/common/v1/common_pb';
import type { CedarAnswer, CedarRequest } from '../adapters/cedar/cedar-engine.js';
import { MODEL_ACTIONS, NAME_PATTERN } from './model.js';

/** A reason in the decision, safe to show the caller. */
export interface DecisionReason {
  code: string;
  message: string;
  ruleId: string;
}

/** The verdict of the policy-decision point for one request. */
export interface Verdict {
  allow: boolean;
  reasons: DecisionReason[];
  /** On allow: the vault credential the request may use. */
  credentialRef: string;
}

/** One request to decide. */
export interface DecideInput {
  principal: Principal;
  action: string;
  resourceType: string;
  resourceId: string;
}

/** Evaluates a request against the org's loaded Cedar policies. */
export type Authorize = (orgId: string, request: CedarRequest) => CedarAnswer;

const deny = (code: string, message: string, ruleId: string): Verdict => ({
  allow: false,
  reasons: [{ code, message, ruleId }],
  credentialRef: '',
});

/**
 * Decides a request. Deny by default: a request is allowed only when every structural check
 * passes and Cedar permits it with no evaluation error — an erroring policy (which Cedar
 * skips) must never turn a forbid into an allow.
 */
export function decide(input: DecideInput, authorize: Authorize): Verdict {
  const { principal, action } = input;
  if (!(MODEL_ACTIONS as readonly string[]).includes(action)) {
    return deny(
      'unknown_action',
      `action "${action}" is not governed by this policy`,
      'default-deny',
    );
  }
  if (!principal.products.includes(Product.PAT)) {
    return deny('wrong_product', 'this api key is not issued for the Claude API', 'default-deny');
  }
  if (!principal.patKeyId) {
    return deny('no_pat_key', 'this api key is not bound to a PAT key', 'default-deny');
  }
  if (input.resourceType !== 'model' || !NAME_PATTERN.test(input.resourceId)) {
    return deny('invalid_model', 'the request names no valid model', 'default-deny');
  }
  const answer = authorize(principal.orgId, {
    subjectId: principal.subjectId,
    roles: principal.roles,
    action,
    model: input.resourceId,
  });
  if (answer.errors.length > 0) {
    return deny(
      'evaluation_error',
      'the policy could not be evaluated for this request',
      'evaluation-error',
    );
  }
  if (answer.decision === 'deny') {
    const forbid = answer.determining[0];
    return forbid
      ? deny('model_denied', `model "${input.resourceId}" is denied for your role`, forbid)
      : deny(
          'model_not_allowed',
          `model "${input.resourceId}" is not allowed for your role`,
          'default-deny',
        );
  }
  return {
    allow: true,
    reasons: answer.determining.map((ruleId) => ({
      code: 'allowed',
      message: 'allowed by role grant',
      ruleId,
    })),
    credentialRef: principal.patKeyId,
  };
}
