import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Effect, RedactionKind } from '@fortress/proto/policy/v1/policy_pb';
import type { OperatorClients } from '@fortress/harness/stack/operator-clients';
import { eventually, useStack, type TestStack } from './support/stack.js';

type Admin = OperatorClients['policyAdmin'];
const ACTOR = 'usr_admin_test';
const allowAll = {
  name: 'dev',
  description: '',
  grants: [{ resourceType: 'model', resourceId: '*', effect: Effect.ALLOW }],
};
const hours = {
  days: [1, 2, 3, 4, 5],
  startMinute: 540,
  endMinute: 1020,
  timeZone: 'Europe/Berlin',
};

/** The change event of an audit row, as stored (protobuf JSON of the envelope). */
interface ChangeEventJson {
  change?: {
    actor?: { subjectId?: string };
    entityType?: string;
    entityId?: string;
    operation?: string;
    before?: unknown;
    after?: unknown;
  };
}

describe('policy admin RPCs record every change as a change event', () => {
  let stack: TestStack;
  let admin: Admin;
  const orgId = `org_${randomBytes(6).toString('hex')}`;
  const changes = async () => (await stack.auditRows(orgId)).filter((r) => r.kind === 'change');
  const snapshot = async () => admin.getPolicy({ orgId });

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    admin = stack.operator.policyAdmin;
    await admin.putRole({ orgId, actorId: ACTOR, role: allowAll });
    await admin.putRule({
      orgId,
      actorId: ACTOR,
      rule: { id: 'hours', scopeType: 'org', condition: { case: 'timeWindow', value: hours } },
    });
  });

  it('records each create, update and delete of every kind of entity with its before and after, one version each', async function () {
    this.timeout(30_000);
    const seeded = await eventually(
      async () => ((await changes()).length >= 2 ? changes() : undefined),
      'the seeding changes',
    );
    const role = {
      name: 'ops',
      description: 'ops',
      grants: [{ resourceType: 'tool', resourceId: 'crm__*', effect: 'allow' }],
    };
    const limits = {
      patKeyId: 'pat_a',
      modelAllowlist: [],
      maxTokensPerRequest: 100,
      clampMaxTokens: false,
      monthlySpendCapMicrousd: 0,
      requestsPerMinute: 0,
      tokensPerMinute: 0,
      alertThresholdPercent: 80,
    };
    const steps: Array<{
      call: () => Promise<{ version: string }>;
      action: string;
      resource: string;
      before?: unknown;
      after?: unknown;
    }> = [
      {
        call: () =>
          admin.putRole({
            orgId,
            actorId: ACTOR,
            role: { ...role, grants: [{ ...role.grants[0], effect: Effect.ALLOW }] },
          }),
        action: 'role.create',
        resource: 'role:ops',
        after: role,
      },
      {
        call: () =>
          admin.putRole({
            orgId,
            actorId: ACTOR,
            role: {
              ...role,
              description: 'on call',
              grants: [{ ...role.grants[0], effect: Effect.ALLOW }],
            },
          }),
        action: 'role.update',
        resource: 'role:ops',
        before: role,
        after: { ...role, description: 'on call' },
      },
      {
        call: () =>
          admin.setToggle({
            orgId,
            actorId: ACTOR,
            toggle: { targetType: 'connector', targetId: 'crm', enabled: false },
          }),
        action: 'toggle.create',
        resource: 'toggle:connector/crm',
        after: { targetType: 'connector', targetId: 'crm', enabled: false },
      },
      {
        call: () =>
          admin.putPatLimits({
            orgId,
            actorId: ACTOR,
            limits: { patKeyId: 'pat_a', maxTokensPerRequest: 100 },
          }),
        action: 'pat_key.create',
        resource: 'pat_key:pat_a',
        after: limits,
      },
      {
        call: () =>
          admin.putRedaction({
            orgId,
            actorId: ACTOR,
            role: 'ops',
            connectorId: 'crm',
            profile: { kinds: [RedactionKind.EMAIL] },
          }),
        action: 'redaction.create',
        resource: 'redaction:ops/crm',
        after: { kinds: ['email'], custom: [] },
      },
      {
        call: () => admin.putRedaction({ orgId, actorId: ACTOR, role: 'ops', connectorId: 'crm' }),
        action: 'redaction.delete',
        resource: 'redaction:ops/crm',
        before: { kinds: ['email'], custom: [] },
      },
      {
        call: () => admin.deletePatLimits({ orgId, actorId: ACTOR, patKeyId: 'pat_a' }),
        action: 'pat_key.delete',
        resource: 'pat_key:pat_a',
        before: limits,
      },
      {
        call: () => admin.deleteRule({ orgId, actorId: ACTOR, ruleId: 'hours' }),
        action: 'rule.delete',
        resource: 'rule:hours',
        before: {
          id: 'hours',
          scope: { type: 'org' },
          condition: { kind: 'time_window', ...hours },
        },
      },
      {
        call: () => admin.deleteRole({ orgId, actorId: ACTOR, name: 'ops' }),
        action: 'role.delete',
        resource: 'role:ops',
        before: { ...role, description: 'on call' },
      },
    ];
    let version = Number((await snapshot()).version);
    for (const s of steps) {
      const next = Number((await s.call()).version);
      assert.equal(next, version + 1, `${s.action} makes exactly one new version`);
      version = next;
    }
    const rows = await eventually(async () => {
      const all = await changes();
      return all.length >= seeded.length + steps.length ? all : undefined;
    }, 'a change event per change');
    const fresh = rows.slice(seeded.length).map((r) => (r.event as ChangeEventJson).change);
    assert.deepEqual(
      fresh.map((c) => `${c?.entityType}.${c?.operation} ${c?.entityType}:${c?.entityId}`),
      steps.map((s) => `${s.action} ${s.resource}`),
      'one event per change, in order',
    );
    fresh.forEach((change, i) => {
      const s = steps[i];
      assert.equal(change?.actor?.subjectId, ACTOR);
      // A PAT key's record carries the time it was first stored, set by the policy service.
      const stamped = (side: unknown) => {
        if (!s?.action.startsWith('pat_key.') || side === undefined) return side;
        const { createdAt, ...rest } = side as Record<string, unknown>;
        assert.match(String(createdAt), /^\d{4}-\d\d-\d\dT/, `${s.action} createdAt`);
        return rest;
      };
      assert.deepEqual(stamped(change?.before), s?.before, `${s?.action} before`);
      assert.deepEqual(stamped(change?.after), s?.after, `${s?.action} after`);
    });
  });
});
