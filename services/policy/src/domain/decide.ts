import { PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import type { CedarRequest, DecisionInput } from './cedar-request.js';
import {
  CONNECTOR_ID_PATTERN,
  CONNECTOR_TEST_ACTION,
  connectorCredentialRef,
  NAME_PATTERN,
  TOOL_PATTERN,
  connectorOf,
  resourceTypeOf,
  type ConnectorModel,
  type OrgModel,
  type RedactionProfile,
} from './model.js';

/** A reason in a decision, safe to show the caller. */
export interface DecisionReason {
  code: string;
  message: string;
  ruleId: string;
}

/** What Cedar answered. */
export interface CedarAnswer {
  decision: 'allow' | 'deny';
  determining: string[];
  errors: string[];
}

/** The verdict of the policy for one request, before quotas. */
export interface Verdict {
  allow: boolean;
  reasons: DecisionReason[];
  /** On allow: the vault credential the request may use ("" for none). */
  credentialRef: string;
  /** On allow: clamp max_tokens to this when non-zero. */
  maxTokensClamp: number;
  /** On allow: what to redact from tool results. */
  redaction: RedactionProfile;
  /** On allow of an MCP action: the connectors it may use. */
  connectors: ConnectorModel[];
}

const NONE: RedactionProfile = { kinds: [], custom: [] };

const deny = (code: string, message: string, ruleId = 'default-deny'): Verdict => ({
  allow: false,
  reasons: [{ code, message, ruleId }],
  credentialRef: '',
  maxTokensClamp: 0,
  redaction: NONE,
  connectors: [],
});

/** Why the request is structurally outside what the principal may even ask for, if it is. */
function structuralDenial(input: DecisionInput): Verdict | undefined {
  const { principal: p, action } = input;
  const type = resourceTypeOf(action);
  if (!type) return deny('unknown_action', `action "${action}" is not governed by this policy`);
  if (type !== input.resourceType)
    return deny('invalid_resource', `action "${action}" does not apply to a ${input.resourceType}`);
  if (type === 'model') {
    if (!p.products.includes(Product.PAT))
      return deny('wrong_product', 'this api key is not issued for the Claude API');
    if (!p.patKeyId) return deny('no_pat_key', 'this api key is not bound to a PAT key');
    if (!NAME_PATTERN.test(input.resourceId))
      return deny('invalid_model', 'the request names no valid model');
  } else if (type === 'tool') {
    if (!p.products.includes(Product.MCP))
      return deny('wrong_product', 'this api key is not issued for MCP');
    if (!TOOL_PATTERN.test(input.resourceId) || !connectorOf(input.resourceId)) {
      return deny('invalid_tool', 'the request names no valid tool');
    }
  } else if (p.kind !== PrincipalKind.ADMIN) {
    return deny('not_an_admin', 'admin actions need an admin session');
  }
  return undefined;
}

/** A deny reason for the forbid policy with this id, in words of the model. */
function forbidReason(ruleId: string, input: DecisionInput, model: OrgModel): DecisionReason {
  const what =
    input.resourceType === 'tool'
      ? `tool "${input.resourceId}"`
      : input.resourceType === 'model'
        ? `model "${input.resourceId}"`
        : `"${input.action}"`;
  const [kind, ...rest] = ruleId.split('/');
  if (kind === 'toggle')
    return {
      code: 'disabled',
      message: `${rest[0] === 'connector' ? 'connector' : 'PAT key'} "${rest[1] ?? ''}" is disabled for the organisation`,
      ruleId,
    };
  if (kind === 'role')
    return { code: 'denied_by_role', message: `${what} is denied for your role`, ruleId };
  if (kind === 'pat') {
    if (rest[1] === 'revoked')
      return {
        code: 'pat_key_revoked',
        message: `PAT key "${rest[0] ?? ''}" has been revoked`,
        ruleId,
      };
    return rest[1] === 'models'
      ? {
          code: 'model_blocked',
          message: `${what} is not in the allowlist of this PAT key`,
          ruleId,
        }
      : {
          code: 'max_tokens_exceeded',
          message: `max_tokens ${input.maxTokens} exceeds this PAT key's limit`,
          ruleId,
        };
  }
  const rule = model.rules.find((r) => `rule/${r.id}` === ruleId);
  switch (rule?.condition.kind) {
    case 'time_window':
      return {
        code: 'outside_time_window',
        message: `${what} is allowed only within business hours (${rule.condition.timeZone})`,
        ruleId,
      };
    case 'ip':
      return {
        code: 'ip_not_allowed',
        message: 'requests from this network are not allowed',
        ruleId,
      };
    case 'attribute':
      return {
        code: 'attribute_mismatch',
        message: `${what} requires ${rule.condition.attribute} to match`,
        ruleId,
      };
    default:
      return { code: 'denied', message: `${what} is denied by policy`, ruleId };
  }
}

/** The redaction that applies: the union of the principal's roles' profiles on the connector. */
function redactionFor(input: DecisionInput, model: OrgModel): RedactionProfile {
  if (input.resourceType !== 'tool') return NONE;
  const connector = connectorOf(input.resourceId);
  const profiles = input.principal.roles.flatMap((r) => model.redaction[`${r}/${connector}`] ?? []);
  return {
    kinds: [...new Set(profiles.flatMap((p) => p.kinds))].sort(),
    custom: profiles.flatMap((p) => p.custom),
  };
}

/**
 * Decides a request against an org's model. Deny by default: allowed only when every
 * structural check passes and Cedar permits with no evaluation error — an erroring policy
 * (which Cedar skips) must never turn a forbid into an allow. Quotas come after, if allowed.
 */
export function decide(
  input: DecisionInput,
  model: OrgModel,
  authorize: (request: CedarRequest) => CedarAnswer,
  request: CedarRequest,
): Verdict {
  const structural = structuralDenial(input);
  if (structural) return structural;
  const answer = authorize(request);
  if (answer.errors.length > 0) {
    return deny(
      'evaluation_error',
      'the policy could not be evaluated for this request',
      'evaluation-error',
    );
  }
  if (answer.decision === 'deny') {
    if (answer.determining.length === 0) {
      const what =
        input.resourceType === 'admin'
          ? `"${input.action}"`
          : `${input.resourceType} "${input.resourceId}"`;
      return deny('not_permitted', `${what} is not allowed for your role`);
    }
    return {
      ...deny('', ''),
      reasons: [...answer.determining].sort().map((id) => forbidReason(id, input, model)),
    };
  }
  const limits = model.patLimits.find((l) => l.patKeyId === input.principal.patKeyId);
  const clamp =
    input.resourceType === 'model' && limits?.clampMaxTokens ? limits.maxTokensPerRequest : 0;
  return {
    allow: true,
    reasons: [...answer.determining]
      .sort()
      .map((ruleId) => ({ code: 'allowed', message: 'allowed by role grant', ruleId })),
    credentialRef:
      input.resourceType === 'model'
        ? input.principal.patKeyId
        : input.resourceType === 'tool'
          ? connectorCredentialRef(connectorOf(input.resourceId))
          : input.action === CONNECTOR_TEST_ACTION && CONNECTOR_ID_PATTERN.test(input.resourceId)
            ? connectorCredentialRef(input.resourceId)
            : '',
    maxTokensClamp: clamp,
    redaction: redactionFor(input, model),
    connectors: [],
  };
}

/** Connectors whose tools are served: created and tested, and not killed. */
const SERVED: ReadonlySet<string> = new Set(['active', 'offline']);

/**
 * The connector gate of a tool call the roles allow: the connector must exist and be served
 * (a PENDING connector has not passed its test; a KILLED one is denied on every replica as soon
 * as the kill is saved). An OFFLINE connector is still tried: a success brings it back.
 */
export function gateConnector(verdict: Verdict, input: DecisionInput, model: OrgModel): Verdict {
  if (!verdict.allow || input.resourceType !== 'tool') return verdict;
  const id = connectorOf(input.resourceId);
  const connector = model.connectors.find((c) => c.id === id);
  if (!connector)
    return deny('unknown_tool', `tool "${input.resourceId}" does not exist`, 'connector');
  if (connector.status === 'killed')
    return deny(
      'connector_killed',
      `connector "${id}" has been disabled by an administrator`,
      `connector/${id}/killed`,
    );
  if (!SERVED.has(connector.status))
    return deny(
      'connector_pending',
      `connector "${id}" has not passed its connection test yet`,
      `connector/${id}/pending`,
    );
  return { ...verdict, connectors: [connector] };
}

/** The action of listing an org's tools as a whole. */
export const TOOLS_LIST_ACTION = 'mcp:tools.list';

/**
 * Listing tools (`tools/list`): allowed to an MCP principal, with the connectors whose tools
 * may be shown; which tools the caller then sees is decided tool by tool (Explain).
 */
export function decideToolCatalog(input: DecisionInput, model: OrgModel): Verdict {
  if (!input.principal.products.includes(Product.MCP))
    return deny('wrong_product', 'this api key is not issued for MCP');
  return {
    allow: true,
    reasons: [
      {
        code: 'allowed',
        message: 'the tools are listed, filtered tool by tool',
        ruleId: 'catalog',
      },
    ],
    credentialRef: '',
    maxTokensClamp: 0,
    redaction: NONE,
    connectors: model.connectors.filter((c) => SERVED.has(c.status)),
  };
}

/** The action and (empty) resource id of listing the model catalog as a whole. */
export const CATALOG_ACTION = 'pat:models.list';

/**
 * Listing the model catalog (`GET /v1/models`, resource id ""): allowed to a PAT principal
 * whose PAT key is not disabled, so the edge may fetch the catalog with the key's credential;
 * which models the caller then sees is decided model by model (Explain).
 */
export function decideCatalog(input: DecisionInput, model: OrgModel): Verdict {
  const p = input.principal;
  if (!p.products.includes(Product.PAT))
    return deny('wrong_product', 'this api key is not issued for the Claude API');
  if (!p.patKeyId) return deny('no_pat_key', 'this api key is not bound to a PAT key');
  if (model.patLimits.find((l) => l.patKeyId === p.patKeyId)?.revokedAt)
    return deny(
      'pat_key_revoked',
      `PAT key "${p.patKeyId}" has been revoked`,
      `pat/${p.patKeyId}/revoked`,
    );
  const toggle = model.toggles.find((t) => t.targetType === 'pat_key' && t.targetId === p.patKeyId);
  if (toggle && !toggle.enabled) {
    return deny(
      'disabled',
      `PAT key "${p.patKeyId}" is disabled for the organisation`,
      `toggle/pat_key/${p.patKeyId}`,
    );
  }
  return {
    allow: true,
    reasons: [
      {
        code: 'allowed',
        message: 'the catalog is listed, filtered model by model',
        ruleId: 'catalog',
      },
    ],
    credentialRef: p.patKeyId,
    maxTokensClamp: 0,
    redaction: NONE,
    connectors: [],
  };
}
