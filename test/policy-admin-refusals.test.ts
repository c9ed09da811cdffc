import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
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

/** Every admin RPC with input it must refuse, and the field the refusal must name. */
const badInput = (
  org: string,
): Array<{ name: string; field: string; call: (a: Admin) => Promise<unknown> }> => [
  {
    name: 'GetPolicy of an org id with a space',
    field: 'org_id',
    call: (a) => a.getPolicy({ orgId: 'org x' }),
  },
  {
    name: 'PutRole without a role',
    field: 'role',
    call: (a) => a.putRole({ orgId: org, actorId: ACTOR }),
  },
  {
    name: 'PutRole with a quote in the name',
    field: 'role.name',
    call: (a) => a.putRole({ orgId: org, actorId: ACTOR, role: { ...allowAll, name: 'dev"' } }),
  },
  {
    name: 'PutRole with a tool grant without a connector',
    field: 'role.grants[0].resource_id',
    call: (a) =>
      a.putRole({
        orgId: org,
        actorId: ACTOR,
        role: {
          name: 'x',
          grants: [{ resourceType: 'tool', resourceId: 'push', effect: Effect.ALLOW }],
        },
      }),
  },
  {
    name: 'PutRole without an actor',
    field: 'actor_id',
    call: (a) => a.putRole({ orgId: org, actorId: ' ', role: allowAll }),
  },
  {
    name: 'PutRole for a malformed org id',
    field: 'org_id',
    call: (a) => a.putRole({ orgId: 'acme', actorId: ACTOR, role: allowAll }),
  },
  {
    name: 'DeleteRole with a slash in the name',
    field: 'name',
    call: (a) => a.deleteRole({ orgId: org, actorId: ACTOR, name: 'dev/x' }),
  },
  {
    name: 'SetToggle without a toggle',
    field: 'toggle',
    call: (a) => a.setToggle({ orgId: org, actorId: ACTOR }),
  },
  {
    name: 'SetToggle of a user',
    field: 'toggle.target_type',
    call: (a) =>
      a.setToggle({ orgId: org, actorId: ACTOR, toggle: { targetType: 'user', targetId: 'u1' } }),
  },
  {
    name: 'PutRule without a condition',
    field: 'rule.condition',
    call: (a) => a.putRule({ orgId: org, actorId: ACTOR, rule: { id: 'r', scopeType: 'org' } }),
  },
  {
    name: 'PutRule with an unknown time zone',
    field: 'rule.time_window.time_zone',
    call: (a) =>
      a.putRule({
        orgId: org,
        actorId: ACTOR,
        rule: {
          id: 'r',
          scopeType: 'org',
          condition: { case: 'timeWindow', value: { ...hours, timeZone: 'Mars/Olympus_Mons' } },
        },
      }),
  },
  {
    name: 'PutRule with a window of no length',
    field: 'rule.time_window.end_minute',
    call: (a) =>
      a.putRule({
        orgId: org,
        actorId: ACTOR,
        rule: {
          id: 'r',
          scopeType: 'org',
          condition: { case: 'timeWindow', value: { ...hours, endMinute: 540 } },
        },
      }),
  },
  {
    name: 'PutRule with a bad CIDR',
    field: 'rule.ip_restriction.cidrs[0]',
    call: (a) =>
      a.putRule({
        orgId: org,
        actorId: ACTOR,
        rule: {
          id: 'r',
          scopeType: 'org',
          condition: { case: 'ipRestriction', value: { cidrs: ['10.0.0.0/33'] } },
        },
      }),
  },
  {
    name: 'DeleteRule with a space in the id',
    field: 'rule_id',
    call: (a) => a.deleteRule({ orgId: org, actorId: ACTOR, ruleId: 'a b' }),
  },
  {
    name: 'PutPatLimits for a key id without pat_',
    field: 'limits.pat_key_id',
    call: (a) => a.putPatLimits({ orgId: org, actorId: ACTOR, limits: { patKeyId: 'key_1' } }),
  },
  {
    name: 'PutPatLimits with an alert over 100 percent',
    field: 'limits.alert_threshold_percent',
    call: (a) =>
      a.putPatLimits({
        orgId: org,
        actorId: ACTOR,
        limits: { patKeyId: 'pat_a', alertThresholdPercent: 101 },
      }),
  },
  {
    name: 'DeletePatLimits of something that is no PAT key id',
    field: 'pat_key_id',
    call: (a) => a.deletePatLimits({ orgId: org, actorId: ACTOR, patKeyId: 'nope' }),
  },
  {
    name: 'PutRedaction for a role with a quote',
    field: 'role',
    call: (a) => a.putRedaction({ orgId: org, actorId: ACTOR, role: 'dev"', connectorId: 'crm' }),
  },
  {
    name: 'PutRedaction without a connector',
    field: 'connector_id',
    call: (a) => a.putRedaction({ orgId: org, actorId: ACTOR, role: 'dev', connectorId: '' }),
  },
  {
    name: 'PutRedaction with an unspecified kind',
    field: 'profile.kinds[0]',
    call: (a) =>
      a.putRedaction({
        orgId: org,
        actorId: ACTOR,
        role: 'dev',
        connectorId: 'crm',
        profile: { kinds: [RedactionKind.UNSPECIFIED] },
      }),
  },
];

/** Asserts `call` fails with `code`, returning the error. */
async function refused(call: Promise<unknown>, code: Code): Promise<ConnectError> {
  const err = await call.then(
    () => assert.fail('expected the call to be refused'),
    (e: unknown) => ConnectError.from(e),
  );
  assert.equal(Code[err.code], Code[code], err.rawMessage);
  return err;
}

describe('policy admin RPCs refuse bad input and missing objects, changing nothing', () => {
  let stack: TestStack;
  let admin: Admin;
  const orgId = `org_${randomBytes(6).toString('hex')}`;
  const snapshot = async () => admin.getPolicy({ orgId });
  const changeEvents = async () =>
    (await stack.auditRows(orgId)).filter((r) => r.kind === 'change');

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

  it('refuses bad input to every admin RPC with INVALID_ARGUMENT naming the field, changing nothing', async function () {
    this.timeout(30_000);
    const before = await snapshot();
    const rpcs = new Set<string>();
    for (const c of badInput(orgId)) {
      const err = await refused(c.call(admin), Code.InvalidArgument);
      assert.ok(
        err.rawMessage.startsWith(c.field),
        `${c.name}: "${err.rawMessage}" should name ${c.field}`,
      );
      assert.deepEqual(await snapshot(), before, `${c.name} changed the policy`);
      rpcs.add(c.name.split(' ')[0] ?? '');
    }
    assert.equal(rpcs.size, 9, 'every admin RPC is covered');
  });

  it('refuses a change that does not validate as Cedar with the validator’s errors, changing nothing', async () => {
    const before = await snapshot();
    const err = await refused(
      admin.putRule({
        orgId,
        actorId: ACTOR,
        rule: {
          id: 'lan',
          scopeType: 'org',
          condition: { case: 'ipRestriction', value: { cidrs: ['10.0.0.0/08'] } },
        },
      }),
      Code.InvalidArgument,
    );
    assert.match(err.rawMessage, /^the policy does not validate: rule\/lan: .*10\.0\.0\.0\/08/);
    assert.deepEqual(await snapshot(), before);
  });

  const missing = [
    {
      name: 'a role',
      call: (a: Admin) => a.deleteRole({ orgId, actorId: ACTOR, name: 'ghost' }),
      what: /role "ghost" does not exist/,
    },
    {
      name: 'a rule',
      call: (a: Admin) => a.deleteRule({ orgId, actorId: ACTOR, ruleId: 'ghost' }),
      what: /rule "ghost" does not exist/,
    },
    {
      name: 'PAT limits',
      call: (a: Admin) => a.deletePatLimits({ orgId, actorId: ACTOR, patKeyId: 'pat_ghost' }),
      what: /limits of "pat_ghost" does not exist/,
    },
  ];
  for (const c of missing) {
    it(`answers NOT_FOUND to deleting ${c.name} that does not exist, changing nothing`, async () => {
      const before = await snapshot();
      assert.match((await refused(c.call(admin), Code.NotFound)).rawMessage, c.what);
      assert.deepEqual(await snapshot(), before);
    });
  }

  it('records no change event for any refused change', async function () {
    this.timeout(30_000);
    // Refused calls above are followed by one accepted change; its event must come right
    // after the two of the setup.
    await admin.putRole({ orgId, actorId: ACTOR, role: { ...allowAll, name: 'sentinel' } });
    const events = await eventually(async () => {
      const rows = await changeEvents();
      return rows.length >= 3 ? rows : undefined;
    }, 'the change events');
    assert.deepEqual(
      events.map((r) => (r.event as { change?: { entityId?: string } }).change?.entityId),
      ['dev', 'hours', 'sentinel'],
    );
  });
});
