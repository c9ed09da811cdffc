import assert from 'node:assert/strict';
import { eventually, postMessages, useStack, type TestStack } from './support/stack.js';

describe('fail closed: a dependency of the decision is down', () => {
  let stack: TestStack;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await stack.seed();
  });

  /** Sends a request that would be allowed, and asserts it is refused with nothing sent upstream. */
  async function expectFailedClosed(): Promise<string> {
    const upstreamBefore = stack.sandbox.requests.length;
    const res = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
    assert.equal(res.status, 503, JSON.stringify(res.json));
    assert.equal(res.json.error?.type, 'api_error');
    assert.equal(stack.sandbox.requests.length, upstreamBefore, 'the upstream was never called');
    return res.headers.get('x-fortress-request-id') ?? '';
  }

  /** Waits until a request that should be allowed is allowed again. */
  const recovered = () =>
    eventually(
      async () => {
        const res = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
        return res.status === 200 ? true : undefined;
      },
      'the chain to recover',
      20_000,
    );

  for (const service of ['identity', 'posture', 'policy', 'vault'] as const) {
    it(`denies every request while ${service} is down, and recovers when it is back`, async function () {
      this.timeout(60_000);
      await stack.services[service].kill();
      try {
        await expectFailedClosed();
      } finally {
        await stack.services[service].restart();
      }
      await recovered();
    });
  }

  it('audits a fail-closed denial when the org is known (policy down)', async function () {
    this.timeout(60_000);
    await stack.services.policy.kill();
    let requestId: string;
    try {
      requestId = await expectFailedClosed();
    } finally {
      await stack.services.policy.restart();
    }
    const row = await eventually(
      async () => (await stack.auditRows(org.orgId)).find((r) => r.request_id === requestId),
      'the audit row of the fail-closed denial',
    );
    assert.equal(row.decision, 'deny');
    assert.equal(row.reasons[0]?.code, 'dependency_unavailable');
  });

  it('denies every request while NATS is down (no audit, no request), and recovers', async function () {
    this.timeout(60_000);
    await stack.nats.kill();
    try {
      await expectFailedClosed();
    } finally {
      await stack.nats.restart();
    }
    await recovered();
  });
});
