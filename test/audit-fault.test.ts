import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { seedOrg } from '@fortress/harness/stack/seed';
import { startStack, type Stack } from '@fortress/harness/stack/stack';
import { ALLOWED_MODEL, DENIED_MODEL, eventually, postMessages } from './support/stack.js';

const REQUESTS = 240;
const CONCURRENCY = 4;

/**
 * The fault test of issue 7: a bounded load of mixed requests while NATS is killed and
 * restarted twice and PostgreSQL restarted once. Every request that got an answer (200, or a
 * policy deny) has exactly one decision row; no request has two; the chain verifies. 503s
 * during an outage may or may not have a row (the decision may have been stored before the
 * ack was lost), never two.
 *
 * It runs on a stack of its own: killing NATS and restarting PostgreSQL must not disturb the
 * shared one the other end-to-end tests use (nor its test-side database pool).
 */
describe('audit under faults: NATS killed twice, PostgreSQL restarted', () => {
  let stack: Stack;
  let dataDir: string;
  before(async function () {
    this.timeout(120_000);
    dataDir = mkdtempSync(join(tmpdir(), 'fortress-e2e-faults-'));
    stack = await startStack({
      dataDir,
      fast: true,
      logLevel: 'warn',
      serviceEnv: {
        edge: { FORTRESS_HOP_TIMEOUT_MS: '1500', FORTRESS_AUDIT_ACK_TIMEOUT_MS: '1500' },
      },
    });
  });
  after(async function () {
    this.timeout(60_000);
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps exactly one decision row per answered request, no duplicates, and a chain that verifies', async function () {
    this.timeout(240_000);
    const org = await seedOrg(stack.operator, {
      orgId: `org_${randomBytes(6).toString('hex')}`,
      name: 'Fault Org',
      patKeyId: `pat_${randomBytes(6).toString('hex')}`,
      anthropicKey: stack.sandboxAnthropicKey,
      allowedModels: [ALLOWED_MODEL],
    });
    const answers: Array<{ id: string; status: number; denied: boolean }> = [];
    let done = 0;

    const worker = async (w: number) => {
      for (let i = w; i < REQUESTS; i += CONCURRENCY) {
        const model = i % 3 === 2 ? DENIED_MODEL : ALLOWED_MODEL;
        const res = await postMessages(stack.edgeUrl, {
          headers: { 'x-api-key': org.orgKey },
          model,
        }).catch(() => undefined);
        if (res)
          answers.push({
            id: res.headers.get('x-fortress-request-id') ?? '',
            status: res.status,
            denied: res.status === 403 && res.json.error?.type === 'policy_denied',
          });
        done += 1;
      }
    };
    /** Waits until `n` requests were answered, then runs a fault; the next step waits for more. */
    const after = (n: number, what: string) =>
      eventually(() => (done >= n ? true : undefined), `${n} requests before ${what}`, 120_000);
    const unavailableSince = (n: number) => answers.slice(n).filter((a) => a.status === 503).length;
    const chaos = async () => {
      for (const start of [40, 110]) {
        await after(start, 'killing NATS');
        await stack.nats.kill();
        const mark = answers.length;
        await eventually(
          () => (unavailableSince(mark) >= 3 ? true : undefined),
          'requests to fail closed while NATS is down',
          60_000,
        );
        await stack.nats.restart();
      }
      await after(180, 'restarting PostgreSQL');
      await stack.postgres.restart();
    };

    await Promise.all([chaos(), ...Array.from({ length: CONCURRENCY }, (_, w) => worker(w))]);
    assert.equal(done, REQUESTS);
    for (const [name, service] of Object.entries(stack.services))
      assert.equal(
        service.exit,
        undefined,
        `${name} died during the faults:\n${service.lines.slice(-8).join('\n')}`,
      );
    const answered = answers.filter((a) => a.status === 200 || a.denied);
    assert.ok(answered.length > REQUESTS / 2, `most requests were answered (${answered.length})`);
    assert.ok(answers.filter((a) => a.status === 503).length >= 6, 'the outages were felt');
    assert.ok(answered.some((a) => a.denied) && answered.some((a) => a.status === 200));

    const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
    await admin.connect();
    try {
      const perRequest = async () =>
        new Map(
          (
            await admin.query<{ request_id: string; decisions: number; outcomes: number }>(
              `SELECT request_id, count(*) FILTER (WHERE kind = 'decision')::int AS decisions,
                      count(*) FILTER (WHERE kind = 'outcome')::int AS outcomes
                 FROM audit.events WHERE org_id = $1 GROUP BY request_id`,
              [org.orgId],
            )
          ).rows.map((r) => [r.request_id, r]),
        );
      const rows = await eventually(
        async () => {
          const m = await perRequest();
          return answered.every((a) => m.has(a.id)) ? m : undefined;
        },
        'a decision row for every answered request',
        60_000,
      );
      for (const a of answered) {
        const r = rows.get(a.id);
        assert.equal(r?.decisions, 1, `request ${a.id} (${a.status}) has exactly one decision row`);
        assert.ok(
          (r?.outcomes ?? 0) <= (a.status === 200 ? 1 : 0),
          `request ${a.id} has at most one outcome`,
        );
      }
      for (const [id, r] of rows) {
        assert.ok(r.decisions <= 1 && r.outcomes <= 1, `request ${id} is not duplicated`);
      }
      // Every row of the org, whatever its kind, is in the chain that is verified.
      const count = async () =>
        (
          await admin.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM audit.events WHERE org_id = $1',
            [org.orgId],
          )
        ).rows[0]?.n ?? 0;
      const total = await count();
      const v = await eventually(
        async () => {
          const res = await stack.operator.audit.verify({ orgId: org.orgId });
          // Rows may still arrive (outcomes): verify until the chain covers what was counted.
          return res.recordsChecked >= BigInt(total) || !res.ok ? res : undefined;
        },
        'verification of the whole chain',
        30_000,
      );
      assert.equal(v.ok, true, `${v.reason} at ${v.firstBadSequence}: ${v.problem}`);
      const unavailable = answers.filter((a) => a.status === 503);
      console.log(
        `      ${answered.length} answered (200 or policy deny), ${unavailable.length} failed closed (503, ` +
          `${unavailable.filter((a) => rows.has(a.id)).length} of them with a row), ${v.recordsChecked} rows verified`,
      );
    } finally {
      await admin.end();
    }
  });
});
