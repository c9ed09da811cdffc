/** Allow or deny. */
export type Effect = 'allow' | 'deny';

/** What a grant or an action is about. */
export type ResourceType = 'model' | 'tool' | 'admin';

/**
 * One grant of a role (layer 2). `resourceId` is a model id, a tool name `connector__action`,
 * `connector__*` for every tool of a connector, an admin action `<object>.<verb>`, or `*` for
 * every resource of the type.
 */
export interface Grant {
  resourceType: ResourceType;
  resourceId: string;
  effect: Effect;
}

/** A named role and its grants. */
export interface RoleModel {
  name: string;
  description: string;
  grants: Grant[];
}

/** A connector or PAT key switched on or off for the whole org (layer 1). */
export interface Toggle {
  targetType: 'connector' | 'pat_key';
  targetId: string;
  enabled: boolean;
}

/** Where a conditional rule applies. */
export type Scope = { type: 'org' } | { type: 'role' | 'connector' | 'pat_key'; id: string };

/** Local business hours: ISO weekdays, [start, end) minutes; start > end spans midnight. */
export interface TimeWindow {
  kind: 'time_window';
  days: number[];
  startMinute: number;
  endMinute: number;
  timeZone: string;
}

/** At most `limit` calls per fixed window, counted per user or per role. */
export interface RateLimit {
  kind: 'rate_limit';
  limit: number;
  windowSeconds: number;
  per: 'user' | 'role';
}

/** Only from these networks (IPv4 and IPv6 CIDR). */
export interface IpRestriction {
  kind: 'ip';
  cidrs: string[];
}

/** An IdP attribute must match; a missing attribute never matches. */
export interface AttributeCondition {
  kind: 'attribute';
  attribute: string;
  operator: 'eq' | 'ne' | 'in';
  values: string[];
}

/** A condition of a rule (layer 3). */
export type Condition = TimeWindow | RateLimit | IpRestriction | AttributeCondition;

/** A conditional rule: inside its scope, requests are denied unless the condition holds. */
export interface Rule {
  id: string;
  scope: Scope;
  condition: Condition;
}

/** The limits of a PAT key. Zero means "no limit" for every numeric field. */
export interface PatLimits {
  patKeyId: string;
  modelAllowlist: string[];
  maxTokensPerRequest: number;
  clampMaxTokens: boolean;
  monthlySpendCapMicrousd: number;
  requestsPerMinute: number;
  tokensPerMinute: number;
  alertThresholdPercent: number;
  label?: string;
  /** ISO time the key was revoked; a revoked key denies every PAT action. */
  revokedAt?: string;
  /** ISO time the key was first stored. */
  createdAt?: string;
}

/** What to mask in tool results. */
export interface RedactionProfile {
  kinds: string[];
  custom: Array<{ id: string; pattern: string; mask: string }>;
}

/** The connector catalog's types ("mcp" is an upstream MCP server). */
export const CONNECTOR_TYPES = [
  'zendesk',
  'slack',
  'github',
  'jira',
  'salesforce',
  'accounting',
  'mcp',
] as const;

/** Where a connector is in its life (M3). */
export type ConnectorStatus = 'pending' | 'active' | 'offline' | 'killed';

/** One SaaS account or upstream MCP server of an org; its credential is the vault's `id`. */
export interface ConnectorModel {
  /** The tool prefix: its tools are `<id>__<action>`. */
  id: string;
  /** Catalog type ("zendesk", …, or "mcp" for an upstream MCP server); fixed once created. */
  type: string;
  label: string;
  baseUrl: string;
  /** Settings that are not secret. */
  settings: Record<string, string>;
  status: ConnectorStatus;
  statusReason: string;
  /** ISO times. */
  statusChangedAt: string;
  createdAt: string;
}

/** An org's three-layer model, plus PAT limits, redaction profiles and connectors. */
export interface OrgModel {
  roles: RoleModel[];
  toggles: Toggle[];
  rules: Rule[];
  patLimits: PatLimits[];
  /** By "<role>/<connector>". */
  redaction: Record<string, RedactionProfile>;
  connectors: ConnectorModel[];
}

/** An org's model at one version. */
export interface OrgPolicy {
  orgId: string;
  version: number;
  model: OrgModel;
}

/** A model with nothing in it: everything is denied. */
export const EMPTY_MODEL: OrgModel = {
  roles: [],
  toggles: [],
  rules: [],
  patLimits: [],
  redaction: {},
  connectors: [],
};

/** Actions on models (PAT Fortress). */
export const PAT_ACTIONS = [
  'pat:messages.create',
  'pat:messages.count_tokens',
  'pat:models.list',
] as const;
/** Actions on tools (MCP Fortress). */
export const MCP_ACTIONS = ['mcp:tools.call', 'mcp:tools.list'] as const;
/** Objects of the admin plane. */
/** Reading the PAT archive (every prompt and response): audit roles only (owner, auditor). */
export const ARCHIVE_READ_ACTION = 'admin:archive.read';
export const ADMIN_OBJECTS = [
  'org',
  'org_keys',
  'pat_keys',
  'connectors',
  'roles',
  'rules',
  'toggles',
  'redaction',
  'webhooks',
  'users',
  'devices',
  'audit',
  'billing',
  'settings',
  // Deciding pending approvals (S8): owner and admin approve or reject.
  'approvals',
  // Which changes of the org are critical (S8): reading it is for every admin role.
  'approval_policy',
] as const;
/**
 * Testing a connector (a real call with its stored credential): the one admin action whose
 * allow carries a decision token, bound to the connector's credential.
 */
export const CONNECTOR_TEST_ACTION = 'admin:connectors.test';
/** Admin actions: read and write of every object, plus audit export and archive reading. */
export const ADMIN_ACTIONS = [
  ...ADMIN_OBJECTS.flatMap((o) => [`admin:${o}.read`, `admin:${o}.write`]),
  'admin:audit.export',
  ARCHIVE_READ_ACTION,
  CONNECTOR_TEST_ACTION,
];
/** The built-in admin roles. */
export const ADMIN_ROLES = ['owner', 'admin', 'auditor', 'viewer'] as const;
/**
 * Actions only an owner may take. Which changes need a second admin's approval is the owner's
 * to set: an admin must not be able to switch off the check on their own changes.
 */
export const OWNER_ONLY_ACTIONS = [
  'admin:org.write',
  'admin:billing.write',
  'admin:approval_policy.write',
];

/** Every action the policy governs. */
export const ALL_ACTIONS: readonly string[] = [...PAT_ACTIONS, ...MCP_ACTIONS, ...ADMIN_ACTIONS];

/** Names embedded in Cedar string literals and rule ids: no quotes, no slashes, no spaces. */
export const NAME_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
/**
 * Connector ids: lowercase letters and digits (they prefix tool names and name the vault
 * credential), short enough that `<id>__<action>` fits the 64 characters of a tool name.
 */
export const CONNECTOR_ID_PATTERN = /^[a-z][a-z0-9]{0,23}$/;
/** The vault credential of a connector: `conn_<connector id>`. */
export const connectorCredentialRef = (connectorId: string) => `conn_${connectorId}`;
/** Tool names (valid for MCP clients that require it). */
export const TOOL_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
export const WILDCARD = '*';

/** The connector a tool name belongs to: `zendesk__list_tickets` → `zendesk`. */
export function connectorOf(tool: string): string {
  const i = tool.indexOf('__');
  return i > 0 ? tool.slice(0, i) : '';
}

/** The resource type an action applies to. */
export function resourceTypeOf(action: string): ResourceType | undefined {
  if ((PAT_ACTIONS as readonly string[]).includes(action)) return 'model';
  if ((MCP_ACTIONS as readonly string[]).includes(action)) return 'tool';
  if (ADMIN_ACTIONS.includes(action)) return 'admin';
  return undefined;
}
