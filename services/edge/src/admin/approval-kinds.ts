/**
 * The changes an org may mark critical (S8): each names the admin route it intercepts. The set
 * is closed — a policy naming anything else is refused — and holds no route whose body carries
 * a secret (a parked change is stored until decided, and a secret is never stored).
 */
export const CRITICAL_KINDS = {
  'pat_key.revoke': { routes: ['DELETE /pat-keys/{id}'], about: 'revoking a PAT key' },
  'org_key.revoke': { routes: ['DELETE /org-keys/{id}'], about: 'revoking an org API key' },
  'connector.delete': { routes: ['DELETE /connectors/{id}'], about: 'deleting a connector' },
  'role.delete': { routes: ['DELETE /roles/{id}'], about: 'deleting a role' },
  'role.change': {
    routes: ['POST /roles', 'PUT /roles/{id}'],
    about: "creating a role or changing a role's grants",
  },
  'idp.change': { routes: ['PUT /idp'], about: "changing the org's identity provider" },
  'redaction.custom_patterns': {
    routes: ['PUT /redaction/{role}/{connector}'],
    about: 'setting, changing or removing custom redaction patterns',
  },
  'audit_export.disable': {
    routes: ['PUT /audit/export-settings'],
    about: "turning off the continuous export of the org's audit log to the object store",
  },
} as const satisfies Record<string, { routes: readonly string[]; about: string }>;

/** A change an org may mark critical. */
export type CriticalKind = keyof typeof CRITICAL_KINDS;

/**
 * Relaxing the approval policy (dropping a kind) while it requires any approval: always
 * critical, so one owner cannot switch the check off and then act alone.
 */
export const POLICY_RELAX_KIND = 'approval_policy.relax';

/** The route of the approval policy itself. */
export const POLICY_ROUTE = 'PUT /approval-policy';

/** What parks a call: one of the org's kinds, or the relaxing of the policy itself. */
export type ParkedKind = CriticalKind | typeof POLICY_RELAX_KIND;

/** Whether a name is a kind of the closed set. */
export function isCriticalKind(name: string): name is CriticalKind {
  return Object.hasOwn(CRITICAL_KINDS, name);
}

/** What deciding a call's kind may need to know about the org as it is now. */
export interface KindFacts {
  /** The org's critical kinds. */
  critical: readonly CriticalKind[];
  /** Whether the redaction profile "<role>/<connector>" has custom patterns now. */
  hasCustomRedaction(key: string): Promise<boolean>;
}

/**
 * Whether a call of one of `kind`'s routes is the critical change itself. Most kinds are their
 * routes. A redaction change is critical when it touches custom patterns: when the body has
 * some, or when it would replace a profile that has some. An export setting is critical unless
 * it plainly turns export on: a body that is not `"enabled": true` parks (a malformed one is
 * then refused by the route's check), so nothing that could turn export off slips through.
 */
async function isCriticalCall(
  kind: CriticalKind,
  params: readonly string[],
  body: unknown,
  facts: KindFacts,
): Promise<boolean> {
  switch (kind) {
    case 'redaction.custom_patterns': {
      const custom = (body as { custom?: unknown } | null | undefined)?.custom;
      if (Array.isArray(custom) && custom.length > 0) return true;
      return facts.hasCustomRedaction(params.join('/'));
    }
    case 'audit_export.disable':
      return (body as { enabled?: unknown } | null | undefined)?.enabled !== true;
    default:
      return true;
  }
}

/**
 * The kind that parks a call of route `key` (e.g. "DELETE /pat-keys/{id}") under the org's
 * policy, or undefined when it runs at once.
 */
export async function parkedKindOf(
  key: string,
  params: readonly string[],
  body: unknown,
  facts: KindFacts,
): Promise<ParkedKind | undefined> {
  if (key === POLICY_ROUTE) {
    const next = new Set(kindsIn(body));
    return facts.critical.some((k) => !next.has(k)) ? POLICY_RELAX_KIND : undefined;
  }
  for (const kind of facts.critical) {
    if (!(CRITICAL_KINDS[kind].routes as readonly string[]).includes(key)) continue;
    if (await isCriticalCall(kind, params, body, facts)) return kind;
  }
  return undefined;
}

/** The kinds a policy body names (anything malformed counts as naming none). */
export function kindsIn(body: unknown): string[] {
  const critical = (body as { critical?: unknown } | null | undefined)?.critical;
  return Array.isArray(critical) ? critical.filter((k): k is string => typeof k === 'string') : [];
}

/** Field names that hold credential material in some admin body (any case, any depth). */
const SECRET_FIELD =
  /secret|password|passwd|passphrase|private_?key|api_?key|anthropic_?key|access_?token|refresh_?token|bearer|material|credential/i;
/** Values that are plainly keys: Anthropic keys, Fortress org keys, PEM blocks. */
const SECRET_VALUE = /^(sk-ant-|fk_live_|fk_test_)|-----BEGIN [A-Z ]*PRIVATE KEY-----/;

/**
 * The path of the first field of a body that carries, or looks like it carries, a secret
 * (e.g. "config.client_secret"); undefined when none does. Never returns the value.
 */
export function secretFieldOf(body: unknown, path = ''): string | undefined {
  if (typeof body === 'string') return SECRET_VALUE.test(body) ? path || '(body)' : undefined;
  if (body === null || typeof body !== 'object') return undefined;
  const entries = Array.isArray(body)
    ? body.map((v, i) => [`[${i}]`, v] as const)
    : Object.entries(body).map(([k, v]) => [path ? `.${k}` : k, v] as const);
  for (const [name, value] of entries) {
    const at = `${path}${name}`;
    if (!Array.isArray(body) && SECRET_FIELD.test(name) && value !== null && value !== '')
      return at;
    const inner = secretFieldOf(value, at);
    if (inner) return inner;
  }
  return undefined;
}
