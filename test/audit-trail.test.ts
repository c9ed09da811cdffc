import assert from 'node:assert/strict';
import {
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('every decision is audited', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  it('writes a decision row for each request, allowed or denied, and an outcome for each allowed one', async function () {
    this.timeout(60_000);
    const org = await stack.seed();
    const sent: Array<{ id: string; allowed: boolean }> = [];
    for (const model of [ALLOWED_MODEL, DENIED_MODEL, ALLOWED_MODEL, DENIED_MODEL, ALLOWED_MODEL]) {
      const res = await postMessages(stack.edgeUrl, {
        headers: { 'x-api-key': org.orgKey },
        model,
      });
      sent.push({
        id: res.headers.get('x-fortress-request-id') ?? '',
        allowed: res.status === 200,
      });
    }
    assert.deepEqual(
      sent.map((s) => s.allowed),
      [true, false, true, false, true],
    );
    const rows = await eventually(async () => {
      // Seeding the org is admin changes; this test counts the traffic's rows.
      const r = (await stack.auditRows(org.orgId)).filter(
        (x) => x.kind === 'decision' || x.kind === 'outcome',
      );
      return r.length >= 8 ? r : undefined;
    }, 'five decisions and three outcomes');
    assert.equal(rows.length, 8, 'exactly one row per decision and outcome, no duplicates');
    for (const s of sent) {
      const decision = rows.find((r) => r.request_id === s.id && r.kind === 'decision');
      assert.ok(decision, `decision row for ${s.id}`);
      assert.equal(decision.decision, s.allowed ? 'allow' : 'deny');
      assert.equal(decision.action, 'pat:messages.create');
      assert.match(decision.resource, /^model:claude-/);
      assert.match(decision.trace_id, /^[0-9a-f]{32}$/);
      const event = decision.event as {
        decision?: { actor?: { apiKeyId?: string }; decideUs?: number };
      };
      assert.equal(event.decision?.actor?.apiKeyId, org.orgKeyId, 'the actor is recorded');
      assert.ok((event.decision?.decideUs ?? 0) > 0, 'the decision latency is recorded');
      if (!s.allowed) assert.equal(decision.reasons[0]?.code, 'not_permitted');
      const outcome = rows.find((r) => r.request_id === s.id && r.kind === 'outcome');
      assert.equal(Boolean(outcome), s.allowed, `outcome row only for allowed ${s.id}`);
      if (outcome) assert.equal(outcome.status_code, 200);
    }
  });

  it('never lets the upstream see a request without an acked allow decision', async function () {
    this.timeout(60_000);
    const org = await stack.seed();
    for (let i = 0; i < 5; i++)
      await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
    // Every request the upstream has seen in this whole test run, whatever its org.
    const upstreamIds = stack.sandbox.requests
      .map((r) => r.headers['x-fortress-request-id'])
      .filter((id): id is string => typeof id === 'string');
    assert.ok(upstreamIds.length >= 5);
    const missing = await eventually(async () => {
      const found = await stack.allowedRequestIds(upstreamIds);
      const notFound = upstreamIds.filter((id) => !found.has(id));
      return notFound.length === 0 ? notFound : undefined;
    }, 'an allow decision for every upstream request');
    assert.deepEqual(missing, []);
  });

  it('keeps the log append-only, even for the database superuser', async () => {
    const pg = (await import('pg')).default;
    const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
    await admin.connect();
    try {
      for (const sql of [
        'UPDATE audit.events SET action = $$x$$',
        'DELETE FROM audit.events',
        'TRUNCATE audit.events',
      ]) {
        await assert.rejects(admin.query(sql), /append-only/, sql);
      }
    } finally {
      await admin.end();
    }
  });
});
