import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { timestampMs } from '@bufbuild/protobuf/wkt';
import { Redis } from 'ioredis';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { Effect, type DecideResponse } from '@fortress/proto/policy/v1/policy_pb';
import { operatorClients, type OperatorClients } from '@fortress/harness/stack/operator-clients';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import { eventually, useStack, type TestStack } from './support/stack.js';

type PolicyClient = OperatorClients['policy'];
const ACTOR = 'usr_quota_test';
const PAT = 'pat_q';
/** A long window, so a test never straddles two (windows are aligned to the epoch). */
const WINDOW_SECONDS = 30 * 86_400;

/** One Decide as the edge makes it, for a PAT request with a worst-case spend. */
const decide = (
  client: PolicyClient,
  orgId: string,
  o: { roles?: string[]; spend?: number } = {},
) =>
  client.decide({
    principal: {
      orgId,
      kind: PrincipalKind.USER,
      subjectId: 'usr_q',
      roles: o.roles ?? ['dev'],
      products: [Product.PAT],
      patKeyId: PAT,
    },
    action: 'pat:messages.create',
    resource: { type: 'model', id: 'claude-haiku-4-5' },
    context: { requestId: `req_${randomBytes(8).toString('hex')}`, clientIp: '10.0.0.1' },
    demand: { spendMicrousd: BigInt(o.spend ?? 0), tokens: 100n },
    maxTokens: 100,
  });
const codes = (d: DecideResponse) => d.reasons.map((r) => [r.code, r.ruleId]);
const monthKey = (orgId: string) =>
  `q:{${orgId}}:pat:${PAT}:spend:${new Date().toISOString().slice(0, 7)}`;

describe('quotas across policy replicas (real Redis)', () => {
  let stack: TestStack;
  let redis: Redis;
  let replicas: PolicyClient[];
  const started: ServiceProcess[] = [];
  const clientOf = (p: ServiceProcess) =>
    operatorClients(stack.tlsDir, {
      ...stack.urls,
      policy: `https://127.0.0.1:${p.ports.grpcPort}`,
    }).policy;
  const counter = async (key: string) => {
    const h = await redis.hgetall(key);
    return { settled: Number(h['settled'] ?? 0), reserved: Number(h['reserved'] ?? 0) };
  };

  /** A fresh org whose roles may use every model. */
  async function newOrg(roles: string[] = ['dev']): Promise<string> {
    const orgId = `org_${randomBytes(6).toString('hex')}`;
    for (const name of roles) {
      await stack.operator.policyAdmin.putRole({
        orgId,
        actorId: ACTOR,
        role: { name, grants: [{ resourceType: 'model', resourceId: '*', effect: Effect.ALLOW }] },
      });
    }
    return orgId;
  }
  /** Waits until every replica decides with `version` (changes reach replicas by broadcast). */
  const converged = (orgId: string, version: string, clients = replicas) =>
    Promise.all(
      clients.map((client) =>
        eventually(
          async () =>
            (await decide(client, orgId, { roles: ['nobody'] })).policyVersion === version
              ? true
              : undefined,
          `version ${version}`,
        ),
      ),
    );
  const spendCap = async (orgId: string, cap: number, clients = replicas) => {
    const { version } = await stack.operator.policyAdmin.putPatLimits({
      orgId,
      actorId: ACTOR,
      limits: { patKeyId: PAT, monthlySpendCapMicrousd: BigInt(cap) },
    });
    await converged(orgId, version, clients);
  };
  const rateRule = async (
    orgId: string,
    id: string,
    limit: number,
    scope: { scopeType: string; scopeId?: string },
  ) => {
    const { version } = await stack.operator.policyAdmin.putRule({
      orgId,
      actorId: ACTOR,
      rule: {
        id,
        ...scope,
        condition: {
          case: 'rateLimit',
          value: { limit, windowSeconds: WINDOW_SECONDS, per: 'user' },
        },
      },
    });
    await converged(orgId, version);
  };

  before(async function () {
    this.timeout(180_000);
    stack = await useStack();
    started.push(
      ...(await Promise.all([stack.startReplica('policy'), stack.startReplica('policy')])),
    );
    replicas = [stack.operator.policy, ...started.map(clientOf)];
    redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
    // The Redis-down test kills the server; this inspection client just reconnects later.
    redis.on('error', () => undefined);
  });
  after(async () => {
    redis?.disconnect();
    await Promise.all(started.map((p) => p.stop()));
  });

  it('allows exactly the limit to 3 replicas × 20 concurrent callers, denying the rest until the window ends', async function () {
    this.timeout(60_000);
    const orgId = await newOrg();
    await rateRule(orgId, 'calls', 50, { scopeType: 'org' });
    const windowMs = WINDOW_SECONDS * 1000;
    const windowStart = Math.floor(Date.now() / windowMs) * windowMs;
    const callers = replicas.flatMap((client) =>
      Array.from({ length: 20 }, async () => {
        const out: DecideResponse[] = [];
        for (let i = 0; i < 3; i++) out.push(await decide(client, orgId));
        return out;
      }),
    );
    const results = (await Promise.all(callers)).flat();
    const allowed = results.filter((d) => d.decision === Decision.ALLOW);
    const denied = results.filter((d) => d.decision === Decision.DENY);
    assert.equal(results.length, 180);
    assert.equal(allowed.length, 50, 'exactly the limit is allowed');
    assert.ok(
      allowed.every((d) => d.obligations?.reservation === undefined),
      'a call count settles at admission',
    );
    for (const d of denied) {
      assert.deepEqual(codes(d), [['rate_limited', 'rule/calls']]);
      assert.equal(
        d.retryAfter && timestampMs(d.retryAfter),
        windowStart + windowMs,
        'retry_after is the end of the window',
      );
    }
    assert.deepEqual(await counter(`q:{${orgId}}:rule:calls:user:usr_q:${windowStart}`), {
      settled: 50,
      reserved: 0,
    });
  });

  it('never lets settled plus reserved spend pass the cap under concurrent reservations, and stops within one worst case of it', async function () {
    this.timeout(60_000);
    const [cap, worst, actual] = [1_000_000, 30_000, 10_000];
    const orgId = await newOrg();
    await spendCap(orgId, cap);
    let sampling = true;
    let peak = 0;
    const sampler = (async () => {
      while (sampling) {
        const c = await counter(monthKey(orgId));
        peak = Math.max(peak, c.settled + c.reserved);
      }
    })();
    let allowed = 0;
    /** Reserves the worst case and settles the actual amount, until the cap says no. */
    const spendUntilDenied = async (client: PolicyClient) => {
      for (;;) {
        const d = await decide(client, orgId, { spend: worst });
        if (d.decision !== Decision.ALLOW) {
          assert.deepEqual(codes(d), [['spend_cap_reached', `pat/${PAT}/spend`]]);
          return;
        }
        allowed += 1;
        const reservation = d.obligations?.reservation;
        assert.equal(reservation?.spendMicrousd, BigInt(worst));
        await client.settle({
          orgId,
          reservationId: reservation?.id ?? '',
          spendMicrousd: BigInt(actual),
          tokens: 50n,
        });
      }
    };
    try {
      await Promise.all(
        replicas.flatMap((client) => Array.from({ length: 20 }, () => spendUntilDenied(client))),
      );
      await spendUntilDenied(replicas[0] as PolicyClient); // what concurrent reservations held back
    } finally {
      sampling = false;
      await sampler;
    }
    const final = await counter(monthKey(orgId));
    assert.deepEqual(
      final,
      { settled: allowed * actual, reserved: 0 },
      'every reservation was settled at its actual amount',
    );
    assert.ok(peak <= cap, `settled + reserved peaked at ${peak}, over the cap ${cap}`);
    assert.ok(
      final.settled > cap - worst,
      `the cap was reached within one worst case (settled ${final.settled})`,
    );
  });

  it('counts a settlement once, however often it is repeated', async () => {
    const orgId = await newOrg();
    await spendCap(orgId, 1_000_000);
    const d = await decide(replicas[1] as PolicyClient, orgId, { spend: 500 });
    const reservationId = d.obligations?.reservation?.id ?? '';
    for (const client of replicas)
      await client.settle({ orgId, reservationId, spendMicrousd: 200n, tokens: 0n });
    assert.deepEqual(await counter(monthKey(orgId)), { settled: 200, reserved: 0 });
  });

  it('denies requests with a rate rule as dependency_unavailable while Redis is down, and still decides the others', async function () {
    this.timeout(60_000);
    const orgId = await newOrg(['dev', 'free']);
    await rateRule(orgId, 'dev-calls', 1000, { scopeType: 'role', scopeId: 'dev' });
    await stack.redis.kill();
    try {
      for (const client of replicas) {
        assert.deepEqual(codes(await decide(client, orgId, { roles: ['dev'] })), [
          ['dependency_unavailable', 'fail-closed'],
        ]);
        const free = await decide(client, orgId, { roles: ['free'] });
        assert.equal(free.decision, Decision.ALLOW, 'no quota rule, no Redis needed');
        assert.deepEqual(codes(free), [['allowed', 'role/free/allow/model/*']]);
      }
    } finally {
      await stack.redis.restart();
    }
    for (const client of replicas) {
      await eventually(
        async () => ((await decide(client, orgId)).decision === Decision.ALLOW ? true : undefined),
        'quotas to work again',
        20_000,
      );
    }
  });

  it('releases a reservation that is never settled once its lease expires', async function () {
    this.timeout(60_000);
    const leaseMs = 1500;
    const replica = await stack.startReplica('policy', {
      FORTRESS_QUOTA_LEASE_MS: String(leaseMs),
    });
    started.push(replica);
    const client = clientOf(replica);
    const orgId = await newOrg();
    await spendCap(orgId, 100_000, [client]);
    const leaked = await decide(client, orgId, { spend: 100_000 });
    const lease = leaked.obligations?.reservation?.leaseExpiresAt;
    assert.ok(lease, 'the reservation has a lease');
    const leaseEnds = timestampMs(lease);
    assert.ok(leaseEnds - Date.now() <= leaseMs, 'the lease is the configured one');
    const full = await decide(client, orgId, { spend: 1 });
    assert.deepEqual(codes(full), [['spend_cap_reached', `pat/${PAT}/spend`]]);
    const now = new Date();
    assert.equal(
      full.retryAfter && timestampMs(full.retryAfter),
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1),
    );
    const again = await eventually(async () => {
      const d = await decide(client, orgId, { spend: 100_000 });
      return d.decision === Decision.ALLOW ? d : undefined;
    }, 'the leaked reservation to expire');
    assert.ok(Date.now() >= leaseEnds - 100, 'not before the lease ended');
    assert.deepEqual(
      await counter(monthKey(orgId)),
      { settled: 0, reserved: 100_000 },
      'only the new reservation is held',
    );
    // A late settlement still counts what was spent, without releasing anything twice.
    await client.settle({
      orgId,
      reservationId: leaked.obligations?.reservation?.id ?? '',
      spendMicrousd: 7n,
      tokens: 0n,
    });
    assert.deepEqual(await counter(monthKey(orgId)), { settled: 7, reserved: 100_000 });
    assert.ok(again.obligations?.reservation?.id);
  });
});
