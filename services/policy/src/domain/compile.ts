import { cedarSchema, zoneKey } from './cedar-schema.js';
import {
  NAME_PATTERN,
  ARCHIVE_READ_ACTION,
  OWNER_ONLY_ACTIONS,
  PAT_ACTIONS,
  WILDCARD,
  type Condition,
  type Grant,
  type OrgModel,
  type Rule,
} from './model.js';

/** An org's model as Cedar: policies by rule id, the schema, and the zones its clocks use. */
export interface CompiledPolicy {
  policies: Record<string, string>;
  schema: string;
  /** IANA zones in the order of the context clocks tz0, tz1, … */
  zones: string[];
}

const q = (s: string) => JSON.stringify(s);
const entity = (type: string, id: string) => `Fortress::${type}::${q(id)}`;
const action = (id: string) => entity('Action', id);
const patActions = `[${PAT_ACTIONS.map(action).join(', ')}]`;

/** Refuses anything that could break out of a Cedar string literal, whatever validated it. */
function safe(name: string): string {
  if (name !== WILDCARD && !NAME_PATTERN.test(name)) {
    throw new Error('refusing to compile a name outside the allowed pattern');
  }
  return name;
}

/** The id of the Cedar policy compiled from a grant; "/" cannot occur in names. */
export function grantPolicyId(role: string, grant: Grant): string {
  return `role/${role}/${grant.effect}/${grant.resourceType}/${grant.resourceId}`;
}

/** The head (action and resource constraints) of a grant's policy. */
function grantTarget(grant: Grant): string {
  const id = grant.resourceId;
  switch (grant.resourceType) {
    case 'model':
      return `action in ${patActions}, ${id === WILDCARD ? 'resource is Fortress::Model' : `resource == ${entity('Model', safe(id))}`}`;
    case 'tool': {
      const tools = 'action == Fortress::Action::"mcp:tools.call"';
      if (id === WILDCARD) return `${tools}, resource is Fortress::Tool`;
      if (id.endsWith('__*'))
        return `${tools}, resource in ${entity('Connector', safe(id.slice(0, -3)))}`;
      return `${tools}, resource == ${entity('Tool', safe(id))}`;
    }
    case 'admin':
      return id === WILDCARD
        ? 'action in Fortress::Action::"admin", resource'
        : `action == ${action(`admin:${safe(id)}`)}, resource`;
  }
}

/** A condition as a Cedar expression over the request (zones index the clocks). */
function conditionExpr(c: Exclude<Condition, { kind: 'rate_limit' }>, zones: string[]): string {
  switch (c.kind) {
    case 'time_window': {
      const clock = `context.${zoneKey(zones.indexOf(c.timeZone))}`;
      const days = `[${c.days.join(', ')}]`;
      return c.startMinute < c.endMinute
        ? `(${days}.contains(${clock}.day) && ${clock}.minute >= ${c.startMinute} && ${clock}.minute < ${c.endMinute})`
        : `((${days}.contains(${clock}.day) && ${clock}.minute >= ${c.startMinute}) || ` +
            `(${days}.contains(${clock}.prevDay) && ${clock}.minute < ${c.endMinute}))`;
    }
    case 'ip':
      return `(context has ip && (${c.cidrs.map((r) => `context.ip.isInRange(ip(${q(r)}))`).join(' || ')}))`;
    case 'attribute': {
      const tag = q(safe(c.attribute));
      const has = `principal.hasTag(${tag})`;
      const value = `principal.getTag(${tag})`;
      if (c.operator === 'eq') return `(${has} && ${value} == ${q(c.values[0] ?? '')})`;
      if (c.operator === 'ne') return `(${has} && ${value} != ${q(c.values[0] ?? '')})`;
      return `(${has} && [${c.values.map(q).join(', ')}].contains(${value}))`;
    }
  }
}

/** A rule as a forbid: inside its scope, denied unless its condition holds. */
function compileRule(
  rule: Rule & { condition: Exclude<Condition, { kind: 'rate_limit' }> },
  zones: string[],
): string {
  const s = rule.scope;
  const principal = s.type === 'role' ? `principal in ${entity('Role', safe(s.id))}` : 'principal';
  const resource =
    s.type === 'connector' ? `resource in ${entity('Connector', safe(s.id))}` : 'resource';
  const when = s.type === 'pat_key' ? ` when { context.patKey == ${q(safe(s.id))} }` : '';
  return `forbid (${principal}, action in Fortress::Action::"gateway", ${resource})${when} unless { ${conditionExpr(rule.condition, zones)} };`;
}

/** The built-in admin-plane policies: owner, admin, auditor, viewer. */
function adminPolicies(): Record<string, string> {
  const role = (r: string) => entity('AdminRole', r);
  return {
    'builtin/admin/owner': `permit (principal in ${role('owner')}, action in Fortress::Action::"admin", resource);`,
    'builtin/admin/admin': `permit (principal in ${role('admin')}, action in Fortress::Action::"admin", resource) unless { action in [${[...OWNER_ONLY_ACTIONS, ARCHIVE_READ_ACTION].map(action).join(', ')}] };`,
    'builtin/admin/auditor': `permit (principal in ${role('auditor')}, action in [Fortress::Action::"admin:read", ${action('admin:audit.export')}], resource);`,
    'builtin/admin/viewer': `permit (principal in ${role('viewer')}, action in Fortress::Action::"admin:read", resource) unless { action in [${action('admin:audit.read')}, ${action(ARCHIVE_READ_ACTION)}] };`,
  };
}

/**
 * Compiles an org's model into Cedar. Deny by default: nothing is permitted that no grant
 * permits. Toggles, deny grants, conditional rules and PAT limits are forbids, so any of them
 * beats every permit. Rate limits are not Cedar policies: the quota engine enforces them.
 */
export function compileModel(model: OrgModel): CompiledPolicy {
  const zones = [
    ...new Set(
      model.rules.flatMap((r) =>
        r.condition.kind === 'time_window' ? [r.condition.timeZone] : [],
      ),
    ),
  ].sort();
  const policies: Record<string, string> = { ...adminPolicies() };
  const add = (id: string, policy: string) => {
    // A second identical grant adds nothing; a different policy under one id would be lost.
    if (policies[id] !== undefined && policies[id] !== policy)
      throw new Error(`duplicate policy id ${id}`);
    policies[id] = policy;
  };
  for (const t of model.toggles) {
    if (t.enabled) continue;
    add(
      `toggle/${t.targetType}/${safe(t.targetId)}`,
      t.targetType === 'connector'
        ? `forbid (principal, action, resource in ${entity('Connector', t.targetId)});`
        : `forbid (principal, action in Fortress::Action::"gateway", resource) when { context.patKey == ${q(t.targetId)} };`,
    );
  }
  for (const role of model.roles) {
    for (const grant of role.grants) {
      const effect = grant.effect === 'allow' ? 'permit' : 'forbid';
      add(
        grantPolicyId(role.name, grant),
        `${effect} (principal in ${entity('Role', safe(role.name))}, ${grantTarget(grant)});`,
      );
    }
  }
  for (const rule of model.rules) {
    const c = rule.condition;
    if (c.kind === 'rate_limit') continue;
    add(`rule/${safe(rule.id)}`, compileRule({ ...rule, condition: c }, zones));
  }
  for (const p of model.patLimits) {
    const key = q(safe(p.patKeyId));
    if (p.revokedAt) {
      add(
        `pat/${p.patKeyId}/revoked`,
        `forbid (principal, action in ${patActions}, resource) when { context.patKey == ${key} };`,
      );
    }
    if (p.modelAllowlist.length > 0) {
      add(
        `pat/${p.patKeyId}/models`,
        `forbid (principal, action in ${patActions}, resource is Fortress::Model) when { context.patKey == ${key} } unless { resource in [${p.modelAllowlist.map((m) => entity('Model', safe(m))).join(', ')}] };`,
      );
    }
    if (p.maxTokensPerRequest > 0 && !p.clampMaxTokens) {
      add(
        `pat/${p.patKeyId}/max_tokens`,
        `forbid (principal, action == ${action('pat:messages.create')}, resource) when { context.patKey == ${key} && context.maxTokens > ${p.maxTokensPerRequest} };`,
      );
    }
  }
  return { policies, schema: cedarSchema(zones.length), zones };
}

/** Tools a grant names, for Explain when no candidates are given. */
export function namedResources(model: OrgModel): Array<{ type: 'model' | 'tool'; id: string }> {
  const out = new Map<string, { type: 'model' | 'tool'; id: string }>();
  for (const g of model.roles.flatMap((r) => r.grants)) {
    if (
      (g.resourceType === 'model' || g.resourceType === 'tool') &&
      g.resourceId !== WILDCARD &&
      !g.resourceId.endsWith('__*')
    ) {
      out.set(`${g.resourceType}/${g.resourceId}`, { type: g.resourceType, id: g.resourceId });
    }
  }
  for (const p of model.patLimits)
    for (const m of p.modelAllowlist) out.set(`model/${m}`, { type: 'model', id: m });
  return [...out.values()].sort((a, b) => (a.type + a.id).localeCompare(b.type + b.id));
}
