import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalKind, PrincipalSchema, Product } from '@fortress/proto/common/v1/common_pb';
import {
  cedarRequest,
  type CedarRequest,
  type DecisionInput,
} from '../../src/domain/cedar-request.js';
import { decide, type CedarAnswer } from '../../src/domain/decide.js';
import { EMPTY_MODEL, type OrgModel } from '../../src/domain/model.js';

/** A fake Cedar that answers what it is told and records each request. */
function fakeCedar(answer: CedarAnswer) {
  const calls: CedarRequest[] = [];
  return {
    calls,
    authorize: (request: CedarRequest): CedarAnswer => {
      calls.push(request);
      return answer;
    },
  };
}

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  principal: create(PrincipalSchema, {
    orgId: 'org_d',
    subjectId: 'usr_d',
    kind: PrincipalKind.USER,
    roles: ['support', 'oncall'],
    products: [Product.PAT, Product.MCP],
    patKeyId: 'pat_d',
  }),
  action: 'mcp:tools.call',
  resourceType: 'tool',
  resourceId: 'zendesk__list_tickets',
  destructive: false,
  clientIp: '10.0.0.1',
  maxTokens: 0,
  now: new Date('2026-06-03T12:00:00Z'),
  ...over,
});
const model: OrgModel = {
  ...EMPTY_MODEL,
  patLimits: [
    {
      patKeyId: 'pat_d',
      modelAllowlist: [],
      maxTokensPerRequest: 500,
      clampMaxTokens: true,
      monthlySpendCapMicrousd: 0,
      requestsPerMinute: 0,
      tokensPerMinute: 0,
      alertThresholdPercent: 80,
    },
  ],
  redaction: {
    'support/zendesk': {
      kinds: ['phone', 'email'],
      custom: [{ id: 'ticket', pattern: 'T-\\d+', mask: 'T-***' }],
    },
    'oncall/zendesk': { kinds: ['email', 'ssn'], custom: [] },
    'support/github': { kinds: ['card'], custom: [] },
  },
};
const ALLOW: CedarAnswer = {
  decision: 'allow',
  determining: ['role/support/allow/tool/zendesk__*'],
  errors: [],
};
const model4 = {
  action: 'pat:messages.create',
  resourceType: 'model' as const,
  resourceId: 'claude-haiku-4-5',
};
const run = (i: DecisionInput, answer: CedarAnswer) => {
  const cedar = fakeCedar(answer);
  return { verdict: decide(i, model, cedar.authorize, cedarRequest(i, [])), calls: cedar.calls };
};

describe('decide', () => {
  const erroring = [
    {
      name: 'an allow that came with an evaluation error',
      answer: { ...ALLOW, errors: ['rule/x: boom'] },
    },
    {
      name: 'a deny that came with an evaluation error',
      answer: { decision: 'deny' as const, determining: [], errors: ['rule/x: boom'] },
    },
  ];
  for (const c of erroring) {
    it(`denies with evaluation_error for ${c.name}: a skipped forbid must never let a request through`, () => {
      const { verdict } = run(input(), c.answer);
      assert.equal(verdict.allow, false);
      assert.deepEqual(
        verdict.reasons.map((r) => [r.code, r.ruleId]),
        [['evaluation_error', 'evaluation-error']],
      );
    });
  }

  it('names every forbid that applied, in words, quoting the resource', () => {
    const answer: CedarAnswer = {
      decision: 'deny',
      determining: ['toggle/connector/zendesk', 'role/support/deny/tool/zendesk__list_tickets'],
      errors: [],
    };
    const { verdict } = run(input(), answer);
    assert.deepEqual(
      verdict.reasons.map((r) => r.code),
      ['denied_by_role', 'disabled'],
    );
    assert.match(
      verdict.reasons[0]?.message ?? '',
      /tool "zendesk__list_tickets" is denied for your role/,
    );
    assert.match(verdict.reasons[1]?.message ?? '', /connector "zendesk" is disabled/);
    assert.deepEqual(
      [verdict.credentialRef, verdict.maxTokensClamp, verdict.redaction],
      ['', 0, { kinds: [], custom: [] }],
    );
  });

  it('obliges the union of the redaction profiles of the caller’s roles on the tool’s connector', () => {
    const { verdict } = run(input(), ALLOW);
    assert.equal(verdict.allow, true);
    assert.deepEqual(verdict.redaction, {
      kinds: ['email', 'phone', 'ssn'],
      custom: [{ id: 'ticket', pattern: 'T-\\d+', mask: 'T-***' }],
    });
    assert.equal(
      verdict.credentialRef,
      'conn_zendesk',
      'a tool call may use its connector’s credential',
    );
  });

  const obligations = [
    {
      name: 'a model request: the PAT key’s credential and its clamp',
      i: input(model4),
      credentialRef: 'pat_d',
      clamp: 500,
    },
    {
      name: 'a model request with a key without limits: no clamp',
      i: input({
        ...model4,
        principal: create(PrincipalSchema, {
          orgId: 'org_d',
          products: [Product.PAT],
          patKeyId: 'pat_other',
        }),
      }),
      credentialRef: 'pat_other',
      clamp: 0,
    },
    {
      name: 'an admin action: no credential',
      i: input({
        action: 'admin:roles.read',
        resourceType: 'admin',
        resourceId: '',
        principal: create(PrincipalSchema, {
          orgId: 'org_d',
          kind: PrincipalKind.ADMIN,
          roles: ['owner'],
          patKeyId: 'pat_d',
        }),
      }),
      credentialRef: '',
      clamp: 0,
    },
  ];
  for (const c of obligations) {
    it(`obliges the right credential and clamp for ${c.name}`, () => {
      const { verdict } = run(c.i, ALLOW);
      assert.deepEqual(
        [verdict.allow, verdict.credentialRef, verdict.maxTokensClamp, verdict.redaction.kinds],
        [true, c.credentialRef, c.clamp, []],
      );
    });
  }

  it('denies structurally without asking Cedar, even when Cedar would allow', () => {
    const { verdict, calls } = run(input({ resourceId: 'no-connector' }), ALLOW);
    assert.deepEqual(
      [verdict.allow, verdict.reasons[0]?.code, calls.length],
      [false, 'invalid_tool', 0],
    );
  });
});

describe('cedarRequest', () => {
  it('puts a tool inside its connector, the roles as parents and the attributes as tags', () => {
    const principal = create(PrincipalSchema, {
      orgId: 'org_d',
      subjectId: 'usr_d',
      kind: PrincipalKind.ADMIN,
      roles: ['owner', 'support'],
      attributes: { dept: 'eng' },
    });
    const r = cedarRequest(input({ principal, destructive: true }), ['Europe/Berlin']);
    assert.deepEqual(r.entities, [
      {
        uid: { type: 'Fortress::Principal', id: 'usr_d' },
        attrs: {},
        parents: [
          { type: 'Fortress::AdminRole', id: 'owner' },
          { type: 'Fortress::Role', id: 'support' },
        ],
        tags: { dept: 'eng' },
      },
      {
        uid: { type: 'Fortress::Tool', id: 'zendesk__list_tickets' },
        attrs: { destructive: true },
        parents: [{ type: 'Fortress::Connector', id: 'zendesk' }],
      },
    ]);
    assert.deepEqual(r.context['tz0'], { day: 3, prevDay: 2, minute: 14 * 60 });
  });

  const ips = [
    { name: 'IPv4', raw: '192.0.2.1', ip: '192.0.2.1' },
    { name: 'IPv4-mapped IPv6', raw: '::ffff:192.0.2.1', ip: '192.0.2.1' },
    { name: 'IPv4-mapped IPv6 in upper case', raw: '::FFFF:192.0.2.1', ip: '192.0.2.1' },
    { name: 'IPv4-mapped IPv6 in hex', raw: '::ffff:c000:201', ip: '192.0.2.1' },
    {
      name: 'IPv6 with an IPv4 tail (Cedar refuses dotted IPv6)',
      raw: '64:ff9b::192.0.2.1',
      ip: '64:ff9b::c000:201',
    },
    { name: 'IPv6 in upper case', raw: '2001:DB8::1', ip: '2001:db8::1' },
    { name: 'a scoped IPv6 address (Cedar has no zone ids)', raw: 'fe80::1%eth0', ip: undefined },
    { name: 'garbage', raw: 'localhost', ip: undefined },
    { name: 'nothing', raw: '', ip: undefined },
  ];
  for (const c of ips) {
    it(`gives Cedar the client address of ${c.name} as ${c.ip ?? 'absent'}`, () => {
      const context = cedarRequest(input({ clientIp: c.raw }), []).context;
      assert.deepEqual(
        context['ip'],
        c.ip === undefined ? undefined : { __extn: { fn: 'ip', arg: c.ip } },
      );
    });
  }
});
