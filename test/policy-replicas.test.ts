import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { Effect, type DecideResponse } from '@fortress/proto/policy/v1/policy_pb';
import { operatorClients, type OperatorClients } from '@fortress/harness/stack/operator-clients';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import { eventually, useStack, type TestStack } from './support/stack.js';

const ACTOR = 'usr_replica_test';
const MODEL = 'claude-haiku-4-5';
/** Far beyond every wait here: what a replica learns, it learns from the broadcast. */
const FRESHNESS_MS = '600000';
/** How soon "at once" must be. */
const PROPAGATION_MS = 2000;

const newOrgId = () => `org_${randomBytes(6).toString('hex')}`;
const decide = (c: OperatorClients, orgId: string) =>
  c.policy.decide({
    principal: {
      orgId,
      kind: PrincipalKind.USER,
      subjectId: 'usr_r',
      roles: ['dev'],
      products: [Product.PAT],
      patKeyId: 'pat_r',
    },
    action: 'pat:messages.create',
    resource: { type: 'model', id: MODEL },
    context: { requestId: `req_${randomBytes(8).toString('hex')}`, clientIp: '10.0.0.1' },
  });
/** Sets role "dev" to allow or deny the model; the new version. */
const putDev = async (c: OperatorClients, orgId: string, effect: Effect) =>
  Number(
    (
      await c.policyAdmin.putRole({
        orgId,
        actorId: ACTOR,
        role: { name: 'dev', grants: [{ resourceType: 'model', resourceId: MODEL, effect }] },
      })
    ).version,
  );

describe('policy replicas: changes propagate over NATS and decisions name their version', () => {
  let stack: TestStack;
  let a: OperatorClients;
  let b: OperatorClients;
  let c: OperatorClients;
  const started: ServiceProcess[] = [];

  before(async function () {
    this.timeout(180_000);
    stack = await useStack();
    const env = { FORTRESS_POLICY_FRESHNESS_MS: FRESHNESS_MS };
    started.push(
      ...(await Promise.all([
        stack.startReplica('policy', env),
        stack.startReplica('policy', env),
      ])),
    );
    const [pb, pc] = started.map((p) =>
      operatorClients(stack.tlsDir, {
        ...stack.urls,
        policy: `https://127.0.0.1:${p.ports.grpcPort}`,
      }),
    );
    [a, b, c] = [stack.operator, pb as OperatorClients, pc as OperatorClients];
  });
  after(() => Promise.all(started.map((p) => p.stop())));

  /** Waits until a replica decides with `version`, and returns that decision and how long it took. */
  async function seen(client: OperatorClients, orgId: string, version: number) {
    const since = Date.now();
    const d = await eventually(
      async () => {
        const r = await decide(client, orgId);
        return r.policyVersion === String(version) ? r : undefined;
      },
      `version ${version}`,
      PROPAGATION_MS,
    );
    return { d, ms: Date.now() - since };
  }

  it('applies a change saved on one replica on the others at once, naming the new version', async function () {
    this.timeout(30_000);
    const orgId = newOrgId();
    const v1 = await putDev(a, orgId, Effect.ALLOW);
    for (const client of [a, b, c]) {
      const d = await decide(client, orgId);
      assert.deepEqual(
        [d.decision, d.policyVersion],
        [Decision.ALLOW, String(v1)],
        'loaded on first use',
      );
    }
    const v2 = await putDev(a, orgId, Effect.DENY);
    assert.equal(v2, v1 + 1);
    const local = await decide(a, orgId);
    assert.deepEqual(
      [local.decision, local.policyVersion],
      [Decision.DENY, String(v2)],
      'the saving replica applies it before answering',
    );
    for (const client of [b, c]) {
      const { d } = await seen(client, orgId, v2);
      assert.equal(d.decision, Decision.DENY);
      assert.deepEqual(
        d.reasons.map((r) => r.ruleId),
        [`role/dev/deny/model/${MODEL}`],
      );
    }
  });

  it('applies a change saved on a second replica everywhere, with the version GetPolicy reports', async function () {
    this.timeout(30_000);
    const orgId = newOrgId();
    await putDev(b, orgId, Effect.ALLOW);
    for (const client of [a, b, c])
      assert.equal((await decide(client, orgId)).decision, Decision.ALLOW);
    const { version } = await b.policyAdmin.putRule({
      orgId,
      actorId: ACTOR,
      rule: {
        id: 'office',
        scopeType: 'org',
        condition: { case: 'ipRestriction', value: { cidrs: ['192.0.2.0/24'] } },
      },
    });
    for (const client of [a, c]) {
      const { d } = await seen(client, orgId, Number(version));
      assert.deepEqual(
        d.reasons.map((r) => [r.code, r.ruleId]),
        [['ip_not_allowed', 'rule/office']],
      );
      assert.equal((await client.policyAdmin.getPolicy({ orgId })).version, version);
    }
  });

  it('serialises concurrent edits made on three replicas: one version each, every change kept, everyone converges', async function () {
    this.timeout(30_000);
    const orgId = newOrgId();
    const clients = [a, b, c];
    const versions = await Promise.all(
      clients.map(async (client, i) =>
        Number(
          (
            await client.policyAdmin.putRole({
              orgId,
              actorId: ACTOR,
              role: {
                name: `role${i}`,
                grants: [{ resourceType: 'model', resourceId: '*', effect: Effect.ALLOW }],
              },
            })
          ).version,
        ),
      ),
    );
    assert.deepEqual([...versions].sort(), [1, 2, 3]);
    const policy = await c.policyAdmin.getPolicy({ orgId });
    assert.deepEqual(policy.model?.roles.map((r) => r.name).sort(), ['role0', 'role1', 'role2']);
    for (const client of clients) await seen(client, orgId, 3);
  });

  it('never mixes versions: every decision follows the policy of the version it names', async function () {
    this.timeout(60_000);
    const orgId = newOrgId();
    const first = await putDev(a, orgId, Effect.ALLOW);
    // Odd steps from `first` allow, even steps deny; the writer flips while others decide.
    const expected = (v: number) => ((v - first) % 2 === 0 ? Decision.ALLOW : Decision.DENY);
    let writing = true;
    const observed: DecideResponse[] = [];
    const readers = [b, c].map(async (client) => {
      while (writing) observed.push(await decide(client, orgId));
    });
    let last = first;
    for (let i = 1; i <= 10; i++)
      last = await putDev(a, orgId, i % 2 === 0 ? Effect.ALLOW : Effect.DENY);
    await Promise.all([seen(b, orgId, last), seen(c, orgId, last)]);
    writing = false;
    await Promise.all(readers);
    assert.ok(observed.length > 10, `only ${observed.length} decisions observed`);
    for (const d of observed)
      assert.equal(d.decision, expected(Number(d.policyVersion)), `version ${d.policyVersion}`);
    assert.ok(
      new Set(observed.map((d) => d.policyVersion)).size > 1,
      'decisions saw more than one version',
    );
  });
});
