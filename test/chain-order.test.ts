import assert from 'node:assert/strict';
import type { CollectedSpan } from '@fortress/harness/stack/otlp-collector';
import { metricValue } from './support/metrics.js';
import { eventually, postMessages, useStack, type TestStack } from './support/stack.js';

const SERVER = 2;
const byService = (spans: CollectedSpan[], service: string) =>
  spans.filter((s) => s.service === `fortress-${service}` && s.kind === SERVER);

describe('the strict chain', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  /** The trace id of the request the edge answered with this request id. */
  const traceOf = (requestId: string) =>
    eventually(
      () =>
        stack.collector.spans.find((s) => s.attributes['fortress.request_id'] === requestId)
          ?.traceId,
      `the edge span of ${requestId}`,
    );

  it('calls identity, posture, policy and vault one after another, in one trace with the audit hop', async () => {
    const org = await stack.seed();
    const res = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
    assert.equal(res.status, 200);
    const traceId = await traceOf(res.headers.get('x-fortress-request-id') ?? '');
    const spans = await eventually(() => {
      const inTrace = stack.collector.spans.filter((s) => s.traceId === traceId);
      const services = new Set(inTrace.map((s) => s.service));
      const all = ['edge', 'identity', 'posture', 'policy', 'vault', 'audit'].every((s) =>
        services.has(`fortress-${s}`),
      );
      return all ? inTrace : undefined;
    }, 'spans from all six services in one trace');

    const hops = ['identity', 'posture', 'policy', 'vault'].map((service) => {
      const found = byService(spans, service);
      assert.equal(found.length, 1, `one ${service} server span`);
      return found[0] as CollectedSpan;
    });
    for (let i = 1; i < hops.length; i++) {
      const prev = hops[i - 1] as CollectedSpan;
      const next = hops[i] as CollectedSpan;
      assert.ok(prev.endNs <= next.startNs, `${prev.name} ended before ${next.name} started`);
    }
    const publish = spans.find(
      (s) => s.service === 'fortress-edge' && s.name.startsWith('publish'),
    );
    const vault = hops[3] as CollectedSpan;
    assert.ok(publish, 'the decision was published');
    assert.ok(publish.endNs <= vault.startNs, 'the decision was acked before the vault was asked');
    assert.ok(
      spans.some((s) => s.service === 'fortress-audit' && s.name.startsWith('consume')),
      'audit consumed it in the same trace',
    );
  });

  it('never asks posture or policy when identity refuses', async () => {
    const decide = { method: 'fortress.policy.v1.PolicyService/Decide', code: 'OK' };
    const check = { method: 'fortress.posture.v1.PostureService/Check', code: 'OK' };
    const before = {
      policy: await metricValue(
        stack.services.policy.ports.opsPort,
        'fortress_rpc_server_duration_count',
        decide,
      ),
      posture: await metricValue(
        stack.services.posture.ports.opsPort,
        'fortress_rpc_server_duration_count',
        check,
      ),
    };
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': `fk_live_${'A'.repeat(43)}` },
    });
    assert.equal(res.status, 401);
    // The edge awaits each hop before answering, so any call would already be counted.
    assert.equal(
      await metricValue(
        stack.services.policy.ports.opsPort,
        'fortress_rpc_server_duration_count',
        decide,
      ),
      before.policy,
    );
    assert.equal(
      await metricValue(
        stack.services.posture.ports.opsPort,
        'fortress_rpc_server_duration_count',
        check,
      ),
      before.posture,
    );
  });
});
