import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalSchema, Product } from '@fortress/proto/common/v1/common_pb';
import type { CedarAnswer, CedarRequest } from '../../src/adapters/cedar/cedar-engine.js';
import { decide, type DecideInput } from '../../src/domain/decide.js';

/** A fake Cedar that answers what it is told and records each request. */
function fakeAuthorize(answer: CedarAnswer) {
  const calls: Array<[string, CedarRequest]> = [];
  const authorize = (orgId: string, request: CedarRequest): CedarAnswer => {
    calls.push([orgId, request]);
    return answer;
  };
  return { authorize, calls };
}

const input = (overrides: Partial<DecideInput> = {}): DecideInput => ({
  principal: create(PrincipalSchema, {
    orgId: 'org_d1',
    subjectId: 'key_d1',
    roles: ['developer'],
    products: [Product.PAT],
    patKeyId: 'pat_d1',
  }),
  action: 'pat:messages.create',
  resourceType: 'model',
  resourceId: 'claude-sonnet-4-5',
  ...overrides,
});

describe('decide', () => {
  const erroring = [
    {
      name: 'an allow that came with an evaluation error',
      answer: {
        decision: 'allow',
        determining: ['role/developer/allow/model/*'],
        errors: ['role:x: boom'],
      },
    },
    {
      name: 'a deny that came with an evaluation error',
      answer: { decision: 'deny', determining: [], errors: ['role:x: boom'] },
    },
  ] satisfies Array<{ name: string; answer: CedarAnswer }>;
  for (const c of erroring) {
    it(`denies evaluation_error for ${c.name}`, () => {
      const { authorize } = fakeAuthorize(c.answer);
      const verdict = decide(input(), authorize);
      assert.deepEqual(verdict, {
        allow: false,
        reasons: [
          {
            code: 'evaluation_error',
            message: 'the policy could not be evaluated for this request',
            ruleId: 'evaluation-error',
          },
        ],
        credentialRef: '',
      });
    });
  }

  it('asks Cedar with the principal, roles, action and model of the request', () => {
    const { authorize, calls } = fakeAuthorize({
      decision: 'allow',
      determining: ['r1'],
      errors: [],
    });
    const verdict = decide(input(), authorize);
    assert.equal(verdict.allow, true);
    assert.equal(verdict.credentialRef, 'pat_d1');
    assert.deepEqual(calls, [
      [
        'org_d1',
        {
          subjectId: 'key_d1',
          roles: ['developer'],
          action: 'pat:messages.create',
          model: 'claude-sonnet-4-5',
        },
      ],
    ]);
  });

  it('quotes the model in a deny message', () => {
    const { authorize } = fakeAuthorize({
      decision: 'deny',
      determining: ['role/x/deny/model/m'],
      errors: [],
    });
    const verdict = decide(input({ resourceId: 'claude-opus-4-1' }), authorize);
    assert.match(verdict.reasons[0]?.message ?? '', /model "claude-opus-4-1" is denied/);
  });

  const structural = [
    { name: 'an unknown action', overrides: { action: 'pat:models.list' }, code: 'unknown_action' },
    {
      name: 'a key without the PAT product',
      overrides: {
        principal: create(PrincipalSchema, {
          orgId: 'org_d1',
          products: [Product.MCP],
          patKeyId: 'pat_d1',
        }),
      },
      code: 'wrong_product',
    },
    {
      name: 'a key without a PAT key',
      overrides: {
        principal: create(PrincipalSchema, { orgId: 'org_d1', products: [Product.PAT] }),
      },
      code: 'no_pat_key',
    },
    { name: 'an invalid model id', overrides: { resourceId: 'a b' }, code: 'invalid_model' },
  ];
  for (const c of structural) {
    it(`denies ${c.code} for ${c.name} without asking Cedar, even when Cedar would allow`, () => {
      const { authorize, calls } = fakeAuthorize({
        decision: 'allow',
        determining: ['r1'],
        errors: [],
      });
      const verdict = decide(input(c.overrides), authorize);
      assert.equal(verdict.allow, false);
      assert.equal(verdict.reasons[0]?.code, c.code);
      assert.equal(calls.length, 0);
    });
  }
});
