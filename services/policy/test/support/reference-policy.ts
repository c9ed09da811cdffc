import { isIP } from 'node:net';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import type { DecisionInput } from '../../src/domain/cedar-request.js';
import type { Grant, OrgModel, Rule } from '../../src/domain/model.js';

// A deliberately plain evaluator of the three-layer model, written from the specification and
// sharing no logic with compile.ts, cedar-request.ts or decide.ts. Property tests compare it with
// the compiled Cedar decision. Rate limits are the quota engine's business and are ignored here.

/** The reference's verdict: allowed or not, and the ids of the rules that determined it. */
export interface ReferenceVerdict {
  allow: boolean;
  ruleIds: string[];
}

const PAT_ACTIONS = ['pat:messages.create', 'pat:messages.count_tokens', 'pat:models.list'];
const ADMIN_ROLE_NAMES = ['owner', 'admin', 'auditor', 'viewer'];

const isPat = (a: string) => PAT_ACTIONS.includes(a);
const isTool = (a: string) => a === 'mcp:tools.call';
const isAdmin = (a: string) => a.startsWith('admin:');
const isGateway = (a: string) => isPat(a) || isTool(a);
const connectorOfTool = (tool: string) => {
  const at = tool.indexOf('__');
  return at > 0 ? tool.slice(0, at) : '';
};

/** An address as a number, with its family. */
interface Address {
  family: 4 | 6;
  value: bigint;
}

function ipv4(text: string): bigint | undefined {
  if (isIP(text) !== 4) return undefined;
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}

function ipv6(text: string): bigint | undefined {
  if (isIP(text) !== 6 || text.includes('%')) return undefined;
  // A dotted IPv4 tail is the last two 16-bit groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let hex = text;
  if (dotted) {
    const v4 = ipv4(dotted[2] ?? '') ?? 0n;
    hex = `${dotted[1]}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = hex.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  const groups = tail === undefined ? headGroups : [...headGroups, ...zeros, ...tailGroups];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(`0x${g}`), 0n);
}

/** The client's address; IPv4-mapped IPv6 counts as IPv4; anything unparseable is absent. */
export function clientAddress(raw: string): Address | undefined {
  const v4 = ipv4(raw);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = ipv6(raw);
  if (v6 === undefined) return undefined;
  if (v6 >> 32n === 0xffffn) return { family: 4, value: v6 & 0xffffffffn };
  return { family: 6, value: v6 };
}

function inCidr(address: Address, cidr: string): boolean {
  const [net = '', prefix = ''] = cidr.split('/');
  const v4 = ipv4(net);
  const family = v4 === undefined ? 6 : 4;
  if (family !== address.family) return false;
  const shift = BigInt((family === 4 ? 32 : 128) - Number(prefix));
  return address.value >> shift === (v4 ?? ipv6(net) ?? -1n) >> shift;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** Weekday (ISO, from the calendar date) and minute of the day on a wall clock in `zone`. */
export function wallClock(zone: string, at: Date): { day: number; minute: number } {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      hourCycle: 'h23',
    });
    formats.set(zone, format);
  }
  const p = Object.fromEntries(format.formatToParts(at).map((x) => [x.type, Number(x.value)]));
  const sundayIsZero = new Date(
    Date.UTC(p['year'] ?? 0, (p['month'] ?? 1) - 1, p['day']),
  ).getUTCDay();
  return {
    day: sundayIsZero === 0 ? 7 : sundayIsZero,
    minute: (p['hour'] ?? 0) * 60 + (p['minute'] ?? 0),
  };
}

function conditionHolds(rule: Rule, input: DecisionInput): boolean {
  const c = rule.condition;
  switch (c.kind) {
    case 'rate_limit':
      return true;
    case 'time_window': {
      const { day, minute } = wallClock(c.timeZone, input.now);
      const yesterday = day === 1 ? 7 : day - 1;
      if (c.startMinute < c.endMinute) {
        return c.days.includes(day) && minute >= c.startMinute && minute < c.endMinute;
      }
      return (
        (c.days.includes(day) && minute >= c.startMinute) ||
        (c.days.includes(yesterday) && minute < c.endMinute)
      );
    }
    case 'ip': {
      const address = clientAddress(input.clientIp);
      return address !== undefined && c.cidrs.some((cidr) => inCidr(address, cidr));
    }
    case 'attribute': {
      const attributes = input.principal.attributes;
      if (!Object.hasOwn(attributes, c.attribute)) return false;
      const value = attributes[c.attribute];
      if (c.operator === 'eq') return value === c.values[0];
      if (c.operator === 'ne') return value !== c.values[0];
      return c.values.some((v) => v === value);
    }
  }
}

function grantApplies(grant: Grant, input: DecisionInput): boolean {
  const { action, resourceType: type, resourceId: id } = input;
  const g = grant.resourceId;
  switch (grant.resourceType) {
    case 'model':
      return isPat(action) && type === 'model' && (g === '*' || g === id);
    case 'tool':
      return (
        isTool(action) &&
        type === 'tool' &&
        (g === '*' || g === id || (g.endsWith('__*') && g.slice(0, -3) === connectorOfTool(id)))
      );
    case 'admin':
      return isAdmin(action) && (g === '*' || `admin:${g}` === action);
  }
}

function ruleInScope(rule: Rule, input: DecisionInput, gatewayRoles: string[]): boolean {
  const s = rule.scope;
  if (s.type === 'org') return true;
  if (s.type === 'role') return gatewayRoles.includes(s.id);
  if (s.type === 'connector')
    return input.resourceType === 'tool' && connectorOfTool(input.resourceId) === s.id;
  return input.principal.patKeyId === s.id;
}

function adminRolePermits(role: string, action: string): boolean {
  const read = action.endsWith('.read');
  if (role === 'owner') return true;
  // The PAT archive (every prompt and response) is for audit roles only: owner and auditor.
  if (role === 'admin')
    return (
      action !== 'admin:org.write' &&
      action !== 'admin:billing.write' &&
      action !== 'admin:approval_policy.write' &&
      action !== 'admin:archive.read'
    );
  if (role === 'auditor') return read || action === 'admin:audit.export';
  return read && action !== 'admin:audit.read' && action !== 'admin:archive.read';
}

/** Decides a structurally valid request by the specification of the three-layer model. */
export function referenceDecide(model: OrgModel, input: DecisionInput): ReferenceVerdict {
  const p = input.principal;
  const { action } = input;
  const admin = p.kind === PrincipalKind.ADMIN;
  const gatewayRoles = p.roles.filter((r) => !(admin && ADMIN_ROLE_NAMES.includes(r)));
  const adminRoles = admin ? p.roles.filter((r) => ADMIN_ROLE_NAMES.includes(r)) : [];
  const forbids = new Set<string>();

  for (const t of model.toggles) {
    if (t.enabled) continue;
    if (
      t.targetType === 'connector' &&
      input.resourceType === 'tool' &&
      connectorOfTool(input.resourceId) === t.targetId
    ) {
      forbids.add(`toggle/connector/${t.targetId}`);
    }
    if (t.targetType === 'pat_key' && isGateway(action) && p.patKeyId === t.targetId)
      forbids.add(`toggle/pat_key/${t.targetId}`);
  }
  const permits = new Set<string>();
  for (const role of model.roles) {
    if (!gatewayRoles.includes(role.name)) continue;
    for (const g of role.grants) {
      if (!grantApplies(g, input)) continue;
      const id = `role/${role.name}/${g.effect}/${g.resourceType}/${g.resourceId}`;
      (g.effect === 'deny' ? forbids : permits).add(id);
    }
  }
  if (isGateway(action)) {
    for (const rule of model.rules) {
      if (ruleInScope(rule, input, gatewayRoles) && !conditionHolds(rule, input))
        forbids.add(`rule/${rule.id}`);
    }
  }
  const limits = model.patLimits.find((l) => l.patKeyId === p.patKeyId);
  if (limits?.revokedAt && isPat(action)) forbids.add(`pat/${limits.patKeyId}/revoked`);
  if (limits && isPat(action) && input.resourceType === 'model') {
    if (limits.modelAllowlist.length > 0 && !limits.modelAllowlist.includes(input.resourceId)) {
      forbids.add(`pat/${limits.patKeyId}/models`);
    }
    const tooMany =
      action === 'pat:messages.create' && input.maxTokens > limits.maxTokensPerRequest;
    if (limits.maxTokensPerRequest > 0 && !limits.clampMaxTokens && tooMany)
      forbids.add(`pat/${limits.patKeyId}/max_tokens`);
  }
  if (forbids.size > 0) return { allow: false, ruleIds: [...forbids].sort() };

  if (isAdmin(action)) {
    for (const r of adminRoles) if (adminRolePermits(r, action)) permits.add(`builtin/admin/${r}`);
  }
  if (permits.size === 0) return { allow: false, ruleIds: ['default-deny'] };
  return { allow: true, ruleIds: [...permits].sort() };
}
