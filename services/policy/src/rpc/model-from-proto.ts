import { isIP } from 'node:net';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  ConnectorStatus,
  Effect,
  RedactionKind,
  type Connector as ConnectorMsg,
  type Grant as GrantMsg,
  type PatLimits as PatLimitsMsg,
  type PolicyModel,
  type RedactionProfile as RedactionMsg,
  type Role as RoleMsg,
  type Rule as RuleMsg,
  type Toggle as ToggleMsg,
} from '@fortress/proto/policy/v1/policy_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { validateCustomPattern } from '@fortress/redact/custom-pattern';
import { newId } from '@fortress/kit/ids';
import { clip } from '@fortress/kit/validate';
import { isKnownTimeZone } from '../domain/local-clock.js';
import {
  ADMIN_ACTIONS,
  CONNECTOR_ID_PATTERN,
  CONNECTOR_TYPES,
  NAME_PATTERN,
  TOOL_PATTERN,
  WILDCARD,
  type Condition,
  type ConnectorModel,
  type ConnectorStatus as Status,
  type Grant,
  type OrgModel,
  type PatLimits,
  type RedactionProfile,
  type RoleModel,
  type Rule,
  type Toggle,
} from '../domain/model.js';

const bad = (field: string, message: string) =>
  new InvalidArgumentError(field, `${field} ${message}`);

/** Requires a name that can live in a Cedar literal and a rule id. */
function name(field: string, value: string): string {
  if (!NAME_PATTERN.test(value))
    throw bad(field, `"${clip(value)}" must be 1–128 letters, digits, "_", ".", ":" or "-"`);
  return value;
}

/** Requires printable text (it ends up in Cedar string literals). */
function text(field: string, value: string, max = 256): string {
  if (value.length > max || /[\u0000-\u001f\u007f]/.test(value))
    throw bad(field, `must be at most ${max} printable characters`);
  return value;
}

function grant(g: GrantMsg, field: string): Grant {
  const effect =
    g.effect === Effect.ALLOW ? 'allow' : g.effect === Effect.DENY ? 'deny' : undefined;
  if (!effect) throw bad(`${field}.effect`, 'must be ALLOW or DENY');
  const id = g.resourceId;
  const f = `${field}.resource_id`;
  switch (g.resourceType) {
    case 'model':
      if (id !== WILDCARD) name(f, id);
      return { resourceType: 'model', resourceId: id, effect };
    case 'tool': {
      const ok =
        id === WILDCARD ||
        (id.endsWith('__*')
          ? NAME_PATTERN.test(id.slice(0, -3))
          : TOOL_PATTERN.test(id) && id.indexOf('__') > 0);
      if (!ok)
        throw bad(f, `"${clip(id)}" must be a tool "connector__action", "connector__*" or "*"`);
      return { resourceType: 'tool', resourceId: id, effect };
    }
    case 'admin':
      if (id !== WILDCARD && !ADMIN_ACTIONS.includes(`admin:${id}`))
        throw bad(f, `"${clip(id)}" is not an admin action like "pat_keys.write"`);
      return { resourceType: 'admin', resourceId: id, effect };
    default:
      throw bad(
        `${field}.resource_type`,
        `"${clip(g.resourceType)}" must be "model", "tool" or "admin"`,
      );
  }
}

/** A role from its message; INVALID_ARGUMENT names the first bad field. */
export function roleFrom(r: RoleMsg | undefined, field = 'role'): RoleModel {
  if (!r) throw bad(field, 'is required');
  if (r.grants.length > 1000) throw bad(`${field}.grants`, 'must have at most 1000 entries');
  return {
    name: name(`${field}.name`, r.name),
    description: text(`${field}.description`, r.description, 500),
    grants: r.grants.map((g, i) => grant(g, `${field}.grants[${i}]`)),
  };
}

/** A toggle from its message. */
export function toggleFrom(t: ToggleMsg | undefined, field = 'toggle'): Toggle {
  if (!t) throw bad(field, 'is required');
  if (t.targetType !== 'connector' && t.targetType !== 'pat_key')
    throw bad(`${field}.target_type`, 'must be "connector" or "pat_key"');
  return {
    targetType: t.targetType,
    targetId: name(`${field}.target_id`, t.targetId),
    enabled: t.enabled,
  };
}

function cidr(field: string, value: string): string {
  const [addr = '', prefix, extra] = value.split('/');
  const family = isIP(addr);
  const bits = Number(prefix);
  if (
    !family ||
    extra !== undefined ||
    prefix === undefined ||
    !/^\d{1,3}$/.test(prefix) ||
    bits > (family === 4 ? 32 : 128)
  ) {
    throw bad(field, `"${clip(value)}" is not an IPv4 or IPv6 CIDR like "10.0.0.0/8"`);
  }
  return value;
}

function condition(r: RuleMsg, field: string): Condition {
  const c = r.condition;
  switch (c.case) {
    case 'timeWindow': {
      const w = c.value;
      const f = `${field}.time_window`;
      if (
        w.days.length === 0 ||
        w.days.some((d) => d < 1 || d > 7) ||
        new Set(w.days).size !== w.days.length
      ) {
        throw bad(`${f}.days`, 'must list distinct ISO weekdays 1 (Monday) to 7 (Sunday)');
      }
      if (w.startMinute > 1439) throw bad(`${f}.start_minute`, 'must be 0–1439');
      if (w.endMinute < 1 || w.endMinute > 1440) throw bad(`${f}.end_minute`, 'must be 1–1440');
      if (w.startMinute === w.endMinute)
        throw bad(`${f}.end_minute`, 'must differ from start_minute');
      if (!isKnownTimeZone(w.timeZone) || !w.timeZone.includes('/'))
        throw bad(`${f}.time_zone`, `"${clip(w.timeZone)}" is not an IANA time zone`);
      return {
        kind: 'time_window',
        days: [...w.days].sort(),
        startMinute: w.startMinute,
        endMinute: w.endMinute,
        timeZone: w.timeZone,
      };
    }
    case 'rateLimit': {
      const l = c.value;
      const f = `${field}.rate_limit`;
      if (l.limit < 1 || l.limit > 1_000_000) throw bad(`${f}.limit`, 'must be 1–1000000');
      if (l.windowSeconds < 1 || l.windowSeconds > 31 * 86_400)
        throw bad(`${f}.window_seconds`, 'must be 1 s to 31 days');
      if (l.per !== 'user' && l.per !== 'role') throw bad(`${f}.per`, 'must be "user" or "role"');
      return { kind: 'rate_limit', limit: l.limit, windowSeconds: l.windowSeconds, per: l.per };
    }
    case 'ipRestriction': {
      const f = `${field}.ip_restriction.cidrs`;
      if (c.value.cidrs.length === 0 || c.value.cidrs.length > 100)
        throw bad(f, 'must have 1–100 entries');
      return { kind: 'ip', cidrs: c.value.cidrs.map((v, i) => cidr(`${f}[${i}]`, v)) };
    }
    case 'attribute': {
      const a = c.value;
      const f = `${field}.attribute`;
      const op = a.operator;
      if (op !== 'eq' && op !== 'ne' && op !== 'in')
        throw bad(`${f}.operator`, 'must be "eq", "ne" or "in"');
      const count = a.values.length;
      if (op === 'in' ? count < 1 || count > 100 : count !== 1)
        throw bad(
          `${f}.values`,
          op === 'in' ? 'must have 1–100 entries' : 'must have exactly one entry',
        );
      return {
        kind: 'attribute',
        attribute: name(`${f}.attribute`, a.attribute),
        operator: op,
        values: a.values.map((v, i) => text(`${f}.values[${i}]`, v)),
      };
    }
    default:
      throw bad(`${field}.condition`, 'is required');
  }
}

/** Setting names that would put a secret outside the vault. */
const SECRET_SETTING = /(secret|token|password|passwd|api[_-]?key|private)/i;

/** Where a connector's API is: http(s), no credentials, no fragment. */
function baseUrl(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw bad(field, `"${clip(value)}" is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw bad(field, 'must be an http or https URL');
  if (url.username || url.password)
    throw bad(field, 'must not carry credentials: they belong in the vault');
  if (url.hash || value.length > 2048)
    throw bad(field, 'must be at most 2048 characters, no fragment');
  return url.toString().replace(/\/$/, '');
}

/** The status a connector message names, if any. */
export function connectorStatusFrom(status: ConnectorStatus): Status | undefined {
  switch (status) {
    case ConnectorStatus.PENDING:
      return 'pending';
    case ConnectorStatus.ACTIVE:
      return 'active';
    case ConnectorStatus.OFFLINE:
      return 'offline';
    case ConnectorStatus.KILLED:
      return 'killed';
    default:
      return undefined;
  }
}

/**
 * A connector's configuration from its message (id, type, label, base URL, settings). The
 * status is the caller's: a new connector starts PENDING, an edit keeps its status.
 */
export function connectorConfigFrom(
  c: ConnectorMsg | undefined,
  field = 'connector',
): Pick<ConnectorModel, 'id' | 'type' | 'label' | 'baseUrl' | 'settings'> {
  if (!c) throw bad(field, 'is required');
  if (!CONNECTOR_ID_PATTERN.test(c.id))
    throw bad(
      `${field}.id`,
      `"${clip(c.id)}" must be 1–24 lowercase letters and digits, starting with a letter`,
    );
  if (!(CONNECTOR_TYPES as readonly string[]).includes(c.type))
    throw bad(`${field}.type`, `"${clip(c.type)}" must be one of ${CONNECTOR_TYPES.join(', ')}`);
  const entries = Object.entries(c.settings);
  if (entries.length > 20) throw bad(`${field}.settings`, 'must have at most 20 entries');
  for (const [k, v] of entries) {
    name(`${field}.settings`, k);
    if (SECRET_SETTING.test(k))
      throw bad(
        `${field}.settings["${clip(k)}"]`,
        'looks like a secret: secrets belong in the vault',
      );
    text(`${field}.settings["${clip(k)}"]`, v, 512);
  }
  return {
    id: c.id,
    type: c.type,
    label: text(`${field}.label`, c.label || c.id, 128),
    baseUrl: baseUrl(`${field}.base_url`, c.baseUrl),
    settings: Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b))),
  };
}

/** A rule from its message; a missing id gets a fresh one. */
export function ruleFrom(r: RuleMsg | undefined, field = 'rule'): Rule {
  if (!r) throw bad(field, 'is required');
  const id = r.id ? name(`${field}.id`, r.id) : newId('rule');
  const type = r.scopeType;
  if (type !== 'org' && type !== 'role' && type !== 'connector' && type !== 'pat_key') {
    throw bad(`${field}.scope_type`, 'must be "org", "role", "connector" or "pat_key"');
  }
  const scope: Rule['scope'] =
    type === 'org' ? { type } : { type, id: name(`${field}.scope_id`, r.scopeId) };
  return { id, scope, condition: condition(r, field) };
}

/** PAT limits from their message. */
export function patLimitsFrom(l: PatLimitsMsg | undefined, field = 'limits'): PatLimits {
  if (!l) throw bad(field, 'is required');
  if (!l.patKeyId.startsWith('pat_')) throw bad(`${field}.pat_key_id`, 'must start with "pat_"');
  if (l.alertThresholdPercent > 100) throw bad(`${field}.alert_threshold_percent`, 'must be 0–100');
  return {
    patKeyId: name(`${field}.pat_key_id`, l.patKeyId),
    modelAllowlist: [
      ...new Set(l.modelAllowlist.map((m, i) => name(`${field}.model_allowlist[${i}]`, m))),
    ].sort(),
    maxTokensPerRequest: l.maxTokensPerRequest,
    clampMaxTokens: l.clampMaxTokens,
    monthlySpendCapMicrousd: Number(l.monthlySpendCapMicrousd),
    requestsPerMinute: l.requestsPerMinute,
    tokensPerMinute: l.tokensPerMinute,
    alertThresholdPercent: l.alertThresholdPercent || 80,
    ...(l.label ? { label: text(`${field}.label`, l.label, 200) } : {}),
    ...(l.revokedAt ? { revokedAt: timestampDate(l.revokedAt).toISOString() } : {}),
    ...(l.createdAt ? { createdAt: timestampDate(l.createdAt).toISOString() } : {}),
  };
}

/** A redaction profile from its message (custom patterns are checked by the MCP redactor). */
export function redactionFrom(p: RedactionMsg | undefined, field = 'profile'): RedactionProfile {
  const kinds = (p?.kinds ?? []).map((k, i) => {
    if (k === RedactionKind.UNSPECIFIED || !RedactionKind[k])
      throw bad(`${field}.kinds[${i}]`, 'is not a redaction kind');
    return RedactionKind[k].toLowerCase();
  });
  return {
    kinds: [...new Set(kinds)].sort(),
    custom: (p?.custom ?? []).map((c, i) => {
      // An untrusted regex: it must compile on the linear-time engine, within its limits.
      const problem = validateCustomPattern(c.pattern);
      if (problem) throw bad(`${field}.custom[${i}].pattern`, problem);
      return {
        id: c.id ? name(`${field}.custom[${i}].id`, c.id) : newId('pii'),
        pattern: text(`${field}.custom[${i}].pattern`, c.pattern, 1024),
        mask: text(`${field}.custom[${i}].mask`, c.mask, 64),
      };
    }),
  };
}

/** A whole model (Simulate's proposed model). */
export function modelFrom(m: PolicyModel | undefined, field = 'proposed'): OrgModel {
  return {
    roles: (m?.roles ?? []).map((r, i) => roleFrom(r, `${field}.roles[${i}]`)),
    toggles: (m?.toggles ?? []).map((t, i) => toggleFrom(t, `${field}.toggles[${i}]`)),
    rules: (m?.rules ?? []).map((r, i) => ruleFrom(r, `${field}.rules[${i}]`)),
    patLimits: (m?.patLimits ?? []).map((l, i) => patLimitsFrom(l, `${field}.pat_limits[${i}]`)),
    connectors: (m?.connectors ?? []).map((c, i) => ({
      ...connectorConfigFrom(c, `${field}.connectors[${i}]`),
      status: connectorStatusFrom(c.status) ?? 'active',
      statusReason: text(`${field}.connectors[${i}].status_reason`, c.statusReason),
      statusChangedAt: new Date(0).toISOString(),
      createdAt: new Date(0).toISOString(),
    })),
    redaction: Object.fromEntries(
      Object.entries(m?.redaction ?? {}).map(([k, v]) => [
        k,
        redactionFrom(v, `${field}.redaction["${clip(k)}"]`),
      ]),
    ),
  };
}
