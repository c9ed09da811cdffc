import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalKind, PrincipalSchema, Product } from '@fortress/proto/common/v1/common_pb';
import { createCedarEngine } from '../../../src/adapters/cedar/cedar-engine.js';
import { cedarRequest, type DecisionInput } from '../../../src/domain/cedar-request.js';
import { compileModel } from '../../../src/domain/compile.js';
import { EMPTY_MODEL, type OrgModel, type Rule } from '../../../src/domain/model.js';

const developer = (resourceId: string): OrgModel => ({
  ...EMPTY_MODEL,
  roles: [
    {
      name: 'dev',
      description: '',
      grants: [{ resourceType: 'model', resourceId, effect: 'allow' }],
    },
  ],
});
const hours = (id: string, timeZone: string): Rule => ({
  id,
  scope: { type: 'org' },
  condition: {
    kind: 'time_window',
    days: [1, 2, 3, 4, 5, 6, 7],
    startMinute: 0,
    endMinute: 1440,
    timeZone,
  },
});
const asking = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  principal: create(PrincipalSchema, {
    orgId: 'org_e',
    subjectId: 'usr_e',
    kind: PrincipalKind.ADMIN,
    roles: ['dev', 'owner'],
    products: [Product.PAT],
    patKeyId: 'pat_e',
  }),
  action: 'pat:messages.create',
  resourceType: 'model',
  resourceId: 'claude-haiku-4-5',
  destructive: false,
  clientIp: '10.0.0.1',
  maxTokens: 0,
  now: new Date('2026-06-03T12:00:00Z'),
  ...over,
});
const admin = { action: 'admin:org.write', resourceType: 'admin' as const, resourceId: '' };

describe('createCedarEngine', () => {
  const engine = createCedarEngine();

  describe('validate', () => {
    const compiled = compileModel(developer('*'));
    it('accepts what compileModel produces', () => assert.deepEqual(engine.validate(compiled), []));

    const broken = [
      { name: 'a syntax error', policy: 'permit (principal, action, resource' },
      {
        name: 'an unknown entity type',
        policy: 'permit (principal in Fortress::Team::"x", action, resource);',
      },
      {
        name: 'an unknown action',
        policy: 'permit (principal, action == Fortress::Action::"pat:models.delete", resource);',
      },
      {
        name: 'an attribute the schema does not have',
        policy: 'permit (principal, action, resource) when { principal.clearance == "top" };',
      },
      {
        name: 'a clock the schema does not have',
        policy: 'permit (principal, action, resource) when { context.tz0.minute > 1 };',
      },
      {
        name: 'an IP literal Cedar cannot parse',
        policy:
          'permit (principal, action, resource) when { context.ip.isInRange(ip("::ffff:10.0.0.0/104")) };',
      },
    ];
    for (const c of broken) {
      it(`reports ${c.name}`, () => {
        const errors = engine.validate({
          ...compiled,
          policies: { ...compiled.policies, 'hand/broken': c.policy },
        });
        assert.ok(errors.length > 0, 'expected validation errors');
      });
    }
  });

  describe('load and authorize', () => {
    const decide = (orgId: string, i: DecisionInput, zones: string[] = []) =>
      engine.authorize(orgId, cedarRequest(i, zones));

    it('evaluates action groups: the built-in owner permit and the gateway-wide rules apply', () => {
      const m = {
        ...developer('*'),
        rules: [
          {
            id: 'office',
            scope: { type: 'org' as const },
            condition: { kind: 'ip' as const, cidrs: ['10.0.0.0/8'] },
          },
        ],
      };
      engine.load('org_groups', compileModel(m));
      assert.deepEqual(decide('org_groups', asking(admin)), {
        decision: 'allow',
        determining: ['builtin/admin/owner'],
        errors: [],
      });
      assert.deepEqual(decide('org_groups', asking({ clientIp: '192.0.2.1' })), {
        decision: 'deny',
        determining: ['rule/office'],
        errors: [],
      });
    });

    it('keeps each org to its own policy set', () => {
      engine.load('org_one', compileModel(developer('claude-haiku-4-5')));
      engine.load('org_two', compileModel(EMPTY_MODEL));
      assert.equal(decide('org_one', asking()).decision, 'allow');
      assert.equal(decide('org_two', asking()).decision, 'deny');
    });

    it('replaces an org’s policy set and schema when a new version has a different number of clocks', () => {
      engine.load(
        'org_zones',
        compileModel({ ...developer('*'), rules: [hours('a', 'Europe/Berlin')] }),
      );
      assert.equal(decide('org_zones', asking(), ['Europe/Berlin']).decision, 'allow');
      const two = compileModel({
        ...developer('*'),
        rules: [hours('a', 'Europe/Berlin'), hours('b', 'Asia/Tokyo')],
      });
      engine.load('org_zones', two);
      assert.deepEqual(decide('org_zones', asking(), two.zones), {
        decision: 'allow',
        determining: ['role/dev/allow/model/*'],
        errors: [],
      });
    });

    it('refuses a policy set that does not parse and keeps the previous one', () => {
      engine.load('org_keep', compileModel(developer('*')));
      const good = compileModel(developer('*'));
      assert.throws(
        () => engine.load('org_keep', { ...good, policies: { bad: 'permit (' } }),
        /policy set does not parse/,
      );
      assert.equal(decide('org_keep', asking()).decision, 'allow');
    });

    it('answers a deny with an error for an org never loaded', () => {
      const answer = decide('org_never_loaded', asking());
      assert.equal(answer.decision, 'deny');
      assert.ok(answer.errors.length > 0);
    });

    it('gives the same answers without preparsing (Simulate)', () => {
      const compiled = compileModel({
        ...developer('claude-haiku-4-5'),
        rules: [hours('a', 'America/New_York')],
      });
      engine.load('org_once', compiled);
      for (const i of [asking(), asking(admin), asking({ resourceId: 'claude-opus-4-1' })]) {
        const request = cedarRequest(i, compiled.zones);
        assert.deepEqual(
          engine.authorizeOnce(compiled, request),
          engine.authorize('org_once', request),
        );
      }
    });
  });
});
