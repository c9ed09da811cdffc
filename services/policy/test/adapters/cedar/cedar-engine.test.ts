import assert from 'node:assert/strict';
import { createCedarEngine } from '../../../src/adapters/cedar/cedar-engine.js';
import { compileRoles } from '../../../src/domain/compile.js';

describe('createCedarEngine', () => {
  const engine = createCedarEngine();
  const compiled = compileRoles([
    {
      name: 'developer',
      description: '',
      grants: [
        { resourceType: 'model', resourceId: '*', effect: 'allow' },
        { resourceType: 'model', resourceId: 'claude-opus-4-1', effect: 'deny' },
      ],
    },
  ]);

  describe('validate', () => {
    it('accepts what compileRoles produces', () => assert.deepEqual(engine.validate(compiled), []));

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
    ];
    for (const c of broken) {
      it(`rejects a hand-written policy with ${c.name}`, () => {
        const errors = engine.validate({ ...compiled, 'hand:broken': c.policy });
        assert.ok(errors.length > 0, 'expected validation errors');
      });
    }
  });

  describe('load and authorize', () => {
    it('records the loaded version per org', () => {
      engine.load('org_e1', 7, compiled);
      assert.equal(engine.loadedVersion('org_e1'), 7);
      assert.equal(engine.loadedVersion('org_never'), undefined);
    });

    it('refuses a policy set that does not parse and keeps the previous version', () => {
      engine.load('org_e2', 1, compiled);
      assert.throws(
        () => engine.load('org_e2', 2, { bad: 'permit (' }),
        /policy set does not parse/,
      );
      assert.equal(engine.loadedVersion('org_e2'), 1);
      assert.equal(
        engine.authorize('org_e2', {
          subjectId: 'k',
          roles: ['developer'],
          action: 'pat:messages.create',
          model: 'm1',
        }).decision,
        'allow',
      );
    });

    it('answers with the determining policy ids', () => {
      engine.load('org_e3', 1, compiled);
      const allowed = engine.authorize('org_e3', {
        subjectId: 'k',
        roles: ['developer'],
        action: 'pat:messages.create',
        model: 'claude-sonnet-4-5',
      });
      assert.deepEqual(allowed, {
        decision: 'allow',
        determining: ['role/developer/allow/model/*'],
        errors: [],
      });
      const denied = engine.authorize('org_e3', {
        subjectId: 'k',
        roles: ['developer'],
        action: 'pat:messages.create',
        model: 'claude-opus-4-1',
      });
      assert.deepEqual(denied, {
        decision: 'deny',
        determining: ['role/developer/deny/model/claude-opus-4-1'],
        errors: [],
      });
    });

    it("keeps orgs apart: one org's policies never decide for another", () => {
      engine.load('org_e4', 1, compiled);
      engine.load('org_e5', 1, {});
      const answer = engine.authorize('org_e5', {
        subjectId: 'k',
        roles: ['developer'],
        action: 'pat:messages.create',
        model: 'claude-sonnet-4-5',
      });
      assert.equal(answer.decision, 'deny');
      assert.deepEqual(answer.determining, []);
    });

    it('denies with an error for an org whose policies were never loaded', () => {
      const answer = engine.authorize('org_unloaded', {
        subjectId: 'k',
        roles: ['developer'],
        action: 'pat:messages.create',
        model: 'm',
      });
      assert.equal(answer.decision, 'deny');
      assert.ok(answer.errors.length > 0);
    });
  });
});
