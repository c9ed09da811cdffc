import { create } from '@bufbuild/protobuf';
import fc from 'fast-check';
import { PrincipalKind, PrincipalSchema, Product } from '@fortress/proto/common/v1/common_pb';
import type { DecisionInput } from '../../src/domain/cedar-request.js';
import {
  ADMIN_ACTIONS,
  PAT_ACTIONS,
  type Condition,
  type Grant,
  type OrgModel,
  type PatLimits,
  type Rule,
} from '../../src/domain/model.js';

// Random org models and structurally valid requests over one small universe of names, so that
// requests often hit what models name: the property tests need collisions, not variety.

export const MODELS = ['claude-haiku-4-5', 'claude-sonnet-4-5', 'claude-opus-4-1'];
export const CONNECTORS = ['zendesk', 'github', 'jira'];
export const TOOLS = [
  'zendesk__list_tickets',
  'zendesk__delete_ticket',
  'github__push',
  'github__read',
  'jira__create',
];
export const PAT_KEYS = ['pat_a', 'pat_b', 'pat_c'];
/** Includes admin role names: for a non-admin principal they are ordinary gateway roles. */
export const ROLES = ['dev', 'ops', 'intern', 'admin', 'viewer'];
export const ADMIN_ROLES = ['owner', 'admin', 'auditor', 'viewer'];
export const ATTRIBUTES = ['dept', 'level'];
const VALUES = ['eng', 'sales', '', 'say "hi"', 'back\\slash', 'ünï'];
export const ZONES = [
  'Etc/UTC',
  'America/New_York',
  'Europe/Berlin',
  'Asia/Kathmandu',
  'Australia/Lord_Howe',
  'America/St_Johns',
  'Pacific/Chatham',
];
const CIDRS = [
  '10.0.0.0/8',
  '10.1.0.0/16',
  '10.1.2.3/8',
  '192.168.1.7/32',
  '0.0.0.0/0',
  '2001:db8::/32',
  '2001:db8::1/128',
  '::/0',
  'fd00::/8',
];
const CLIENT_IPS = [
  '10.1.2.3',
  '10.2.0.1',
  '192.168.1.7',
  '192.168.1.8',
  '::ffff:10.1.2.3',
  '::FFFF:192.168.1.7',
  '::ffff:a01:203',
  '0:0:0:0:0:ffff:10.1.2.3',
  '::10.1.2.3',
  '2001:db8::1',
  '2001:db8::2',
  '2001:db9::1',
  'fd12::1',
  'fe80::1%eth0',
  '',
  'not-an-ip',
  '10.1.2.03',
];
/** Minutes that are typical window edges; windows also get random minutes. */
const EDGES = [0, 1, 540, 541, 1020, 1380, 1439];
/** Instants near DST switches (New York, Berlin, Lord Howe, St John's, Chatham). */
const SWITCHES = [
  '2026-03-08T07:00:00Z',
  '2026-11-01T06:00:00Z',
  '2026-03-29T01:00:00Z',
  '2026-10-25T01:00:00Z',
  '2026-04-04T15:00:00Z',
  '2026-10-03T15:30:00Z',
  '2026-03-08T05:30:00Z',
  '2026-04-04T14:00:00Z',
].map((s) => Date.parse(s));

const pick = <T>(values: readonly T[]) => fc.constantFrom(...values);
const someOf = <T>(values: readonly T[], min = 0) => fc.subarray([...values], { minLength: min });

const effect = fc.constantFrom<Grant['effect']>('allow', 'allow', 'deny');
const grant: fc.Arbitrary<Grant> = fc.oneof(
  fc.record({
    resourceType: fc.constant('model' as const),
    resourceId: pick([...MODELS, '*']),
    effect,
  }),
  fc.record({
    resourceType: fc.constant('tool' as const),
    resourceId: pick([...TOOLS, ...CONNECTORS.map((c) => `${c}__*`), '*']),
    effect,
  }),
  fc.record({
    resourceType: fc.constant('admin' as const),
    resourceId: pick([...ADMIN_ACTIONS.map((a) => a.slice('admin:'.length)), '*']),
    effect,
  }),
);

const minute = (max: number) =>
  fc.oneof(pick(EDGES.filter((m) => m <= max)), fc.integer({ min: 0, max }));

const condition: fc.Arbitrary<Condition> = fc.oneof(
  fc
    .record({
      days: someOf([1, 2, 3, 4, 5, 6, 7], 1),
      start: minute(1439),
      end: minute(1440),
      timeZone: pick(ZONES),
    })
    .filter((w) => w.start !== w.end && w.end > 0)
    .map((w) => ({
      kind: 'time_window' as const,
      days: w.days,
      startMinute: w.start,
      endMinute: w.end,
      timeZone: w.timeZone,
    })),
  fc.record({ kind: fc.constant('ip' as const), cidrs: someOf(CIDRS, 1) }),
  fc.record({
    kind: fc.constant('attribute' as const),
    attribute: pick(ATTRIBUTES),
    operator: pick(['eq', 'ne'] as const),
    values: pick(VALUES).map((v) => [v]),
  }),
  fc.record({
    kind: fc.constant('attribute' as const),
    attribute: pick(ATTRIBUTES),
    operator: fc.constant('in' as const),
    values: someOf(VALUES, 1),
  }),
  fc.record({
    kind: fc.constant('rate_limit' as const),
    limit: fc.integer({ min: 1, max: 5 }),
    windowSeconds: fc.constant(60),
    per: pick(['user', 'role'] as const),
  }),
);

const scope: fc.Arbitrary<Rule['scope']> = fc.oneof(
  fc.constant({ type: 'org' as const }),
  fc.record({ type: fc.constant('role' as const), id: pick(ROLES) }),
  fc.record({ type: fc.constant('connector' as const), id: pick(CONNECTORS) }),
  fc.record({ type: fc.constant('pat_key' as const), id: pick(PAT_KEYS) }),
);

const patLimits: fc.Arbitrary<PatLimits> = fc
  .record({
    patKeyId: pick(PAT_KEYS),
    modelAllowlist: fc.oneof(fc.constant<string[]>([]), someOf(MODELS, 1)),
    maxTokensPerRequest: pick([0, 100, 1000]),
    clampMaxTokens: fc.boolean(),
    monthlySpendCapMicrousd: fc.constant(0),
    requestsPerMinute: fc.constant(0),
    tokensPerMinute: fc.constant(0),
    alertThresholdPercent: fc.constant(80),
  })
  .chain((l) =>
    // One key in ten is revoked.
    fc
      .integer({ min: 0, max: 9 })
      .map((n): PatLimits => (n === 0 ? { ...l, revokedAt: '2026-11-20T10:00:00.000Z' } : l)),
  );

/** A random org model the admin validator accepts: unique names, every kind of rule. */
export const orgModel: fc.Arbitrary<OrgModel> = fc.record({
  roles: fc.uniqueArray(
    fc.record({
      name: pick(ROLES),
      description: fc.constant(''),
      grants: fc.array(grant, { maxLength: 6 }),
    }),
    {
      selector: (r) => r.name,
      maxLength: ROLES.length,
    },
  ),
  toggles: fc.uniqueArray(
    fc.oneof(
      fc.record({
        targetType: fc.constant('connector' as const),
        targetId: pick(CONNECTORS),
        enabled: fc.boolean(),
      }),
      fc.record({
        targetType: fc.constant('pat_key' as const),
        targetId: pick(PAT_KEYS),
        enabled: fc.boolean(),
      }),
    ),
    { selector: (t) => `${t.targetType}/${t.targetId}`, maxLength: 3 },
  ),
  rules: fc
    .array(fc.record({ scope, condition }), { maxLength: 5 })
    .map((rs) => rs.map((r, i) => ({ id: `r${i}`, ...r }))),
  patLimits: fc.uniqueArray(patLimits, { selector: (l) => l.patKeyId, maxLength: PAT_KEYS.length }),
  redaction: fc.constant({}),
  connectors: fc.constant([]),
});

const now = fc
  .oneof(
    fc.integer({
      min: Date.parse('2024-01-01T00:00:00Z'),
      max: Date.parse('2031-01-01T00:00:00Z'),
    }),
    fc
      .tuple(pick(SWITCHES), fc.integer({ min: -3 * 3600, max: 3 * 3600 }))
      .map(([at, s]) => at + s * 1000),
  )
  .map((ms) => new Date(ms));

const clientIp = fc.oneof(pick(CLIENT_IPS), fc.ipV4(), fc.ipV6());

const target = fc.oneof(
  fc.record({
    action: pick(PAT_ACTIONS),
    resourceType: fc.constant('model' as const),
    resourceId: pick([...MODELS, 'claude-unlisted']),
  }),
  fc.record({
    action: fc.constant('mcp:tools.call'),
    resourceType: fc.constant('tool' as const),
    resourceId: pick([...TOOLS, 'slack__post']),
  }),
  fc.record({
    action: pick(ADMIN_ACTIONS),
    resourceType: fc.constant('admin' as const),
    resourceId: fc.constant(''),
  }),
);

/** A random request that passes decide's structural checks. */
export const decisionInput: fc.Arbitrary<DecisionInput> = fc
  .record({
    target,
    kind: pick([PrincipalKind.ORG_KEY, PrincipalKind.USER, PrincipalKind.ADMIN]),
    roles: someOf([...new Set([...ROLES, ...ADMIN_ROLES])]),
    otherProduct: fc.boolean(),
    patKeyId: pick([...PAT_KEYS, 'pat_unknown']),
    mcpPatKeyId: pick(['', ...PAT_KEYS]),
    attributes: fc.dictionary(pick(ATTRIBUTES), pick(VALUES), { maxKeys: 2 }),
    clientIp,
    now,
    maxTokens: pick([0, 100, 101, 1000, 1001, 4096]),
  })
  .map((r) => {
    const type = r.target.resourceType;
    const product = type === 'tool' ? Product.MCP : Product.PAT;
    const other = type === 'tool' ? Product.PAT : Product.MCP;
    return {
      principal: create(PrincipalSchema, {
        orgId: 'org_property',
        subjectId: 'usr_property',
        kind: type === 'admin' ? PrincipalKind.ADMIN : r.kind,
        roles: r.roles,
        products: r.otherProduct ? [product, other] : [product],
        patKeyId: type === 'tool' ? r.mcpPatKeyId : r.patKeyId,
        attributes: r.attributes,
      }),
      action: r.target.action,
      resourceType: type,
      resourceId: r.target.resourceId,
      destructive: false,
      clientIp: r.clientIp,
      maxTokens: r.maxTokens,
      now: r.now,
    };
  });
