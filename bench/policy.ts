/**
 * The policy decision point (part of `npm run bench`): decisions/s and p50/p99 of (1) the
 * decision in process (compiled Cedar + the decide step, on a realistic org model) and (2) the
 * Decide gRPC hop to the policy service, next to (3) an empty gRPC round trip to a service of
 * the same stack (posture's Check for a SOHO principal, which does no work). The goal is that
 * the decision itself costs less than the empty round trip. Writes JSON under bench/results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import {
  Decision,
  PrincipalKind,
  PrincipalSchema,
  Product,
  Tier,
} from '@fortress/proto/common/v1/common_pb';
import { Effect } from '@fortress/proto/policy/v1/policy_pb';
import { seedOrg } from '@fortress/harness/stack/seed';
import { startStack } from '@fortress/harness/stack/stack';
import { createCedarEngine } from '../services/policy/src/adapters/cedar/cedar-engine.js';
import { cedarRequest } from '../services/policy/src/domain/cedar-request.js';
import { compileModel } from '../services/policy/src/domain/compile.js';
import { decide } from '../services/policy/src/domain/decide.js';
import type { OrgModel } from '../services/policy/src/domain/model.js';
import { measure } from './lib/stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
const MODEL = 'claude-haiku-4-5-20251001';

/** A model of the size a real org has: a few roles, a time window, an IP rule, an attribute rule. */
const model: OrgModel = {
  roles: ['developer', 'support', 'finance', 'intern', 'ops'].map((name, i) => ({
    name,
    description: '',
    grants: [
      {
        resourceType: 'model' as const,
        resourceId: i === 0 ? '*' : MODEL,
        effect: 'allow' as const,
      },
      {
        resourceType: 'model' as const,
        resourceId: 'claude-opus-4-1-20250805',
        effect: 'deny' as const,
      },
      { resourceType: 'tool' as const, resourceId: 'zendesk__*', effect: 'allow' as const },
      {
        resourceType: 'tool' as const,
        resourceId: 'zendesk__delete_ticket',
        effect: 'deny' as const,
      },
    ],
  })),
  toggles: [{ targetType: 'connector', targetId: 'accounting', enabled: false }],
  rules: [
    {
      id: 'hours',
      scope: { type: 'role', id: 'support' },
      condition: {
        kind: 'time_window',
        days: [1, 2, 3, 4, 5],
        startMinute: 0,
        endMinute: 1440,
        timeZone: 'America/New_York',
      },
    },
    {
      id: 'office',
      scope: { type: 'org' },
      condition: { kind: 'ip', cidrs: ['127.0.0.0/8', '10.0.0.0/8', '::1/128'] },
    },
    {
      id: 'dept',
      scope: { type: 'role', id: 'finance' },
      condition: {
        kind: 'attribute',
        attribute: 'department',
        operator: 'eq',
        values: ['Finance'],
      },
    },
  ],
  patLimits: [],
  redaction: {},
  connectors: [],
};

const principal = create(PrincipalSchema, {
  orgId: 'org_bench',
  tier: Tier.SOHO,
  kind: PrincipalKind.ORG_KEY,
  subjectId: 'key_bench',
  roles: ['developer'],
  products: [Product.PAT],
  patKeyId: 'pat_bench',
});

// (1) In process.
const engine = createCedarEngine();
const compiled = compileModel(model);
engine.load('org_bench', compiled);
const inProcess = await measure(() => {
  const input = {
    principal,
    action: 'pat:messages.create',
    resourceType: 'model' as const,
    resourceId: MODEL,
    destructive: false,
    clientIp: '127.0.0.1',
    maxTokens: 64,
    now: new Date(),
  };
  const v = decide(
    input,
    model,
    (r) => engine.authorize('org_bench', r),
    cedarRequest(input, compiled.zones),
  );
  if (!v.allow) throw new Error('the benchmark request must be allowed');
}, MS);

// (2) and (3) through the real services.
const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-policy-'));
const stack = await startStack({ dataDir, fast: true, logLevel: 'warn' });
try {
  const org = await seedOrg(stack.operator, {
    orgId: 'org_bench',
    name: 'Bench',
    patKeyId: 'pat_bench',
    anthropicKey: stack.sandboxAnthropicKey,
    allowedModels: ['*'],
  });
  for (const rule of model.rules) {
    if (rule.condition.kind === 'ip') {
      await stack.operator.policyAdmin.putRule({
        orgId: org.orgId,
        actorId: 'bench',
        rule: {
          id: rule.id,
          scopeType: 'org',
          condition: { case: 'ipRestriction', value: { cidrs: rule.condition.cidrs } },
        },
      });
    }
  }
  await stack.operator.policyAdmin.putRole({
    orgId: org.orgId,
    actorId: 'bench',
    role: {
      name: 'support',
      grants: [{ resourceType: 'model', resourceId: MODEL, effect: Effect.ALLOW }],
    },
  });
  const auth = await stack.operator.identity.authenticate({ apiKey: org.orgKey });
  const p = auth.principal;
  if (!p) throw new Error('the bench org key does not authenticate');
  let n = 0;
  const hop = await measure(async () => {
    const d = await stack.operator.policy.decide({
      principal: p,
      action: 'pat:messages.create',
      resource: { type: 'model', id: MODEL },
      context: { requestId: `req_${n++}`, clientIp: '127.0.0.1' },
    });
    if (d.decision !== Decision.ALLOW) throw new Error('the benchmark request must be allowed');
  }, MS);
  const empty = await measure(() => stack.operator.posture.check({ principal: p }), MS);
  const rows = [
    { what: 'decision in process', ...inProcess },
    { what: 'Decide gRPC hop', ...hop },
    { what: 'empty gRPC round trip', ...empty },
  ].map((r) => ({
    what: r.what,
    'per s': Math.round(r.perSecond),
    'p50 ms': +r.p50.toFixed(3),
    'p99 ms': +r.p99.toFixed(3),
  }));
  const ratio = inProcess.p50 / empty.p50;
  console.log(`\nPolicy decision point, ${MS / 1000}s per measurement, Node ${process.version}`);
  console.table(rows);
  console.log(`decision / empty round trip (p50): ${ratio.toFixed(3)}  (goal: < 1)`);
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(
    join(HERE, 'results', `policy-${at.replace(/[:.]/g, '-')}.json`),
    JSON.stringify({ at, rows, ratio }, null, 2),
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
