import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalKind, PrincipalSchema, Product } from '@fortress/proto/common/v1/common_pb';
import type { DecisionInput } from '../../src/domain/cedar-request.js';
import { EMPTY_MODEL, type OrgModel, type PatLimits, type Rule } from '../../src/domain/model.js';
import { quotaPlan } from '../../src/domain/quota-plan.js';

const NOW = '2026-01-15T12:34:56.789Z';
const rate = (
  id: string,
  scope: Rule['scope'],
  per: 'user' | 'role',
  windowSeconds = 60,
): Rule => ({
  id,
  scope,
  condition: { kind: 'rate_limit', limit: 10, windowSeconds, per },
});
const limits = (over: Partial<PatLimits> = {}): PatLimits => ({
  patKeyId: 'pat_a',
  modelAllowlist: [],
  maxTokensPerRequest: 0,
  clampMaxTokens: false,
  monthlySpendCapMicrousd: 0,
  requestsPerMinute: 0,
  tokensPerMinute: 0,
  alertThresholdPercent: 80,
  ...over,
});
const input = (
  over: Partial<DecisionInput> & { roles?: string[]; patKeyId?: string } = {},
): DecisionInput => {
  const { roles = ['dev', 'ops'], patKeyId = 'pat_a', ...rest } = over;
  return {
    principal: create(PrincipalSchema, {
      orgId: 'org_q',
      subjectId: 'usr_1',
      kind: PrincipalKind.USER,
      roles,
      patKeyId,
      products: [Product.PAT, Product.MCP],
    }),
    action: 'pat:messages.create',
    resourceType: 'model',
    resourceId: 'claude-haiku-4-5',
    destructive: false,
    clientIp: '',
    maxTokens: 0,
    now: new Date(NOW),
    ...rest,
  };
};
const model = (over: Partial<OrgModel>): OrgModel => ({ ...EMPTY_MODEL, ...over });
const tool = {
  action: 'mcp:tools.call',
  resourceType: 'tool' as const,
  resourceId: 'github__push',
};
const DEMAND = { spendMicrousd: 5000, tokens: 700 };
const minuteStart = Date.parse('2026-01-15T12:34:00Z');

describe('quotaPlan', () => {
  const keys = [
    {
      name: 'an org rate limit per user: one counter for the caller',
      rules: [rate('r1', { type: 'org' }, 'user')],
      req: input(),
      keys: [`q:{org_q}:rule:r1:user:usr_1:${minuteStart}`],
    },
    {
      name: 'an org rate limit per role: one counter per role of the caller',
      rules: [rate('r1', { type: 'org' }, 'role')],
      req: input(),
      keys: [
        `q:{org_q}:rule:r1:role:dev:${minuteStart}`,
        `q:{org_q}:rule:r1:role:ops:${minuteStart}`,
      ],
    },
    {
      name: 'a role-scoped limit per role: only that role',
      rules: [rate('r1', { type: 'role', id: 'ops' }, 'role')],
      req: input(),
      keys: [`q:{org_q}:rule:r1:role:ops:${minuteStart}`],
    },
    {
      name: 'a role-scoped limit on a caller without the role',
      rules: [rate('r1', { type: 'role', id: 'sales' }, 'user')],
      req: input(),
      keys: [],
    },
    {
      name: 'a connector-scoped limit on a tool of the connector',
      rules: [rate('r1', { type: 'connector', id: 'github' }, 'user')],
      req: input(tool),
      keys: [`q:{org_q}:rule:r1:user:usr_1:${minuteStart}`],
    },
    {
      name: 'a connector-scoped limit on another connector',
      rules: [rate('r1', { type: 'connector', id: 'jira' }, 'user')],
      req: input(tool),
      keys: [],
    },
    {
      name: 'a connector-scoped limit on a model request',
      rules: [rate('r1', { type: 'connector', id: 'github' }, 'user')],
      req: input(),
      keys: [],
    },
    {
      name: 'a PAT-key-scoped limit on a request with the key',
      rules: [rate('r1', { type: 'pat_key', id: 'pat_a' }, 'user')],
      req: input(),
      keys: [`q:{org_q}:rule:r1:user:usr_1:${minuteStart}`],
    },
    {
      name: 'a PAT-key-scoped limit on another key',
      rules: [rate('r1', { type: 'pat_key', id: 'pat_b' }, 'user')],
      req: input(),
      keys: [],
    },
    {
      name: 'an admin action, under an org limit',
      rules: [rate('r1', { type: 'org' }, 'user')],
      req: input({ action: 'admin:roles.write', resourceType: 'admin', resourceId: '' }),
      keys: [],
    },
    {
      name: 'non-rate rules',
      rules: [
        {
          id: 'ip',
          scope: { type: 'org' as const },
          condition: { kind: 'ip' as const, cidrs: ['10.0.0.0/8'] },
        },
      ],
      req: input(),
      keys: [],
    },
  ];
  for (const c of keys) {
    it(`claims the right counters for ${c.name}`, () => {
      const claims = quotaPlan(model({ rules: c.rules }), c.req, DEMAND);
      assert.deepEqual(claims.map((x) => x.key).sort(), c.keys);
      for (const claim of claims) {
        assert.deepEqual(
          {
            limit: claim.limit,
            amount: claim.amount,
            settle: claim.settle,
            kind: claim.kind,
            ruleId: claim.ruleId,
          },
          { limit: 10, amount: 1, settle: 'now', kind: 'rate', ruleId: 'rule/r1' },
        );
        assert.equal(claim.windowEndMs, minuteStart + 60_000);
      }
    });
  }

  const windows = [
    { name: 'a minute window mid-minute', seconds: 60, now: NOW, end: '2026-01-15T12:35:00.000Z' },
    { name: 'an hour window', seconds: 3600, now: NOW, end: '2026-01-15T13:00:00.000Z' },
    { name: 'a day window', seconds: 86_400, now: NOW, end: '2026-01-16T00:00:00.000Z' },
    {
      name: 'the first instant of a window',
      seconds: 60,
      now: '2026-01-15T12:35:00.000Z',
      end: '2026-01-15T12:36:00.000Z',
    },
    {
      name: 'the last instant of a window',
      seconds: 60,
      now: '2026-01-15T12:35:59.999Z',
      end: '2026-01-15T12:36:00.000Z',
    },
  ];
  for (const w of windows) {
    it(`ends the counter's window at the window boundary for ${w.name}`, () => {
      const [claim] = quotaPlan(
        model({ rules: [rate('r1', { type: 'org' }, 'user', w.seconds)] }),
        input({ now: new Date(w.now) }),
        DEMAND,
      );
      assert.equal(new Date(claim?.windowEndMs ?? 0).toISOString(), w.end);
      assert.ok(claim?.key.endsWith(`:${Date.parse(w.end) - w.seconds * 1000}`), claim?.key);
    });
  }

  it('claims requests and tokens per minute and the monthly spend of the PAT key', () => {
    const m = model({
      patLimits: [
        limits({ requestsPerMinute: 5, tokensPerMinute: 1000, monthlySpendCapMicrousd: 9_000_000 }),
      ],
    });
    const claims = quotaPlan(m, input({ action: 'pat:messages.count_tokens' }), DEMAND);
    assert.deepEqual(
      claims.map(({ key, limit, amount, settle, kind, ruleId }) => ({
        key,
        limit,
        amount,
        settle,
        kind,
        ruleId,
      })),
      [
        {
          key: `q:{org_q}:pat:pat_a:rpm:${minuteStart}`,
          limit: 5,
          amount: 1,
          settle: 'now',
          kind: 'rate',
          ruleId: 'pat/pat_a/rpm',
        },
        {
          key: `q:{org_q}:pat:pat_a:tpm:${minuteStart}`,
          limit: 1000,
          amount: 700,
          settle: 'later',
          kind: 'tokens',
          ruleId: 'pat/pat_a/tpm',
        },
        {
          key: 'q:{org_q}:pat:pat_a:spend:2026-01',
          limit: 9_000_000,
          amount: 5000,
          settle: 'later',
          kind: 'spend',
          ruleId: 'pat/pat_a/spend',
        },
      ],
    );
    assert.equal(claims[2]?.windowEndMs, Date.parse('2026-02-01T00:00:00Z'));
  });

  const none = [
    {
      name: 'listing models',
      req: input({ action: 'pat:models.list' }),
      patLimits: [limits({ requestsPerMinute: 5, monthlySpendCapMicrousd: 1 })],
    },
    { name: 'a key whose limits are all zero', req: input(), patLimits: [limits()] },
    {
      name: 'a key without limits',
      req: input({ patKeyId: 'pat_other' }),
      patLimits: [limits({ requestsPerMinute: 5 })],
    },
    {
      name: 'a tool call made with a limited key',
      req: input(tool),
      patLimits: [limits({ requestsPerMinute: 5 })],
    },
  ];
  for (const c of none) {
    it(`claims nothing of the PAT key's limits for ${c.name}`, () => {
      assert.deepEqual(quotaPlan(model({ patLimits: c.patLimits }), c.req, DEMAND), []);
    });
  }

  const months = [
    {
      name: 'the last millisecond of a year',
      now: '2026-12-31T23:59:59.999Z',
      id: '2026-12',
      end: '2027-01-01T00:00:00.000Z',
    },
    {
      name: 'the first millisecond of a year',
      now: '2027-01-01T00:00:00.000Z',
      id: '2027-01',
      end: '2027-02-01T00:00:00.000Z',
    },
    {
      name: 'a leap February',
      now: '2028-02-29T12:00:00.000Z',
      id: '2028-02',
      end: '2028-03-01T00:00:00.000Z',
    },
    {
      name: 'a month in UTC, not in the caller’s zone',
      now: '2026-03-31T23:30:00.000Z',
      id: '2026-03',
      end: '2026-04-01T00:00:00.000Z',
    },
  ];
  for (const c of months) {
    it(`rolls the spend counter over by calendar month in UTC at ${c.name}`, () => {
      const m = model({ patLimits: [limits({ monthlySpendCapMicrousd: 100 })] });
      const [claim] = quotaPlan(m, input({ now: new Date(c.now) }), DEMAND);
      assert.equal(claim?.key, `q:{org_q}:pat:pat_a:spend:${c.id}`);
      assert.equal(new Date(claim?.windowEndMs ?? 0).toISOString(), c.end);
    });
  }
});
