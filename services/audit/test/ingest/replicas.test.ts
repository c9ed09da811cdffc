import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from '@bufbuild/protobuf';
import { createLogger } from '@fortress/kit/log';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { startNats, type NatsHandle } from '@fortress/harness/infra/nats';
import { AUDIT_STREAM, connectEventBus, type EventBus } from '@fortress/kit/event-bus';
import { startBatchConsumer, type BatchConsumer } from '@fortress/kit/event-batches';
import { apiTelemetry } from '@fortress/kit/telemetry';
import { createAuditStore } from '../../src/adapters/pg/audit-store.js';
import { createChainWriter } from '../../src/adapters/pg/chain-writer.js';
import { createBatchIngest, type IngestMessage } from '../../src/ingest/batch-ingest.js';
import { startAuditFixture, type AuditFixture } from '../support/audit-fixture.js';

const logger = createLogger({ service: 'audit-test', level: 'silent' });
const telemetry = apiTelemetry('audit-test');
const ORGS = ['org_r1', 'org_r2', 'org_r3', 'org_r4', 'org_r5'];
const EVENTS = 3000;

/**
 * Two audit replicas on one durable consumer, one of which "loses" its acks after commit for
 * its first messages (as if it crashed between commit and ack): every event ends up exactly
 * once, in gap-free chains that verify.
 */
describe('two replicas consuming one durable stream', function () {
  this.timeout(180_000);
  let fx: AuditFixture;
  let nats: NatsHandle;
  let natsDir: string;
  let bus: EventBus;
  const consumers: BatchConsumer[] = [];
  let duplicates = 0;

  before(async () => {
    fx = await startAuditFixture();
    natsDir = await mkdtemp(join(tmpdir(), 'fortress-nats-test-'));
    nats = await startNats({ dataDir: natsDir });
    bus = await connectEventBus({ url: nats.url, service: 'audit-test', logger, telemetry });
    const store = createAuditStore(fx.pool);
    let lostAcks = 300;
    for (const replica of ['a', 'b']) {
      const writer = createChainWriter(fx.pg.runtimePool('audit'));
      const ingest = createBatchIngest({
        append: (orgId, rows) => writer.append(orgId, rows),
        appendMany: (batches) => writer.appendMany(batches),
        reject: (e) => store.reject(e),
        concurrency: 3,
        logger,
        onAppended: (_, r) => (duplicates += r.duplicates.length),
      });
      consumers.push(
        await startBatchConsumer({
          url: nats.url,
          service: `audit-${replica}`,
          logger,
          telemetry,
          stream: AUDIT_STREAM,
          durable: 'audit-writer',
          maxBatch: 200,
          handle: (batch) =>
            ingest(
              batch.map((msg): IngestMessage => ({
                subject: msg.subject,
                data: msg.data,
                // Replica a: committed, then the ack never reaches the server.
                ack: () => (replica === 'a' && lostAcks-- > 0 ? msg.nak() : msg.ack()),
                nak: (ms) => msg.nak(ms),
              })),
            ),
        }),
      );
    }
  });
  after(async () => {
    for (const c of consumers) await c.close();
    await bus?.close();
    await nats?.stop();
    await fx?.stop();
    if (natsDir) await rm(natsDir, { recursive: true, force: true });
  });

  it('writes every event exactly once, gap-free per org, and every chain verifies', async () => {
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < EVENTS; i++) {
      const orgId = ORGS[i % ORGS.length] ?? '';
      sent.push(
        bus.publish(
          create(EventEnvelopeSchema, {
            eventId: crypto.randomUUID(),
            orgId,
            source: 'edge',
            payload: { case: 'decision', value: { requestId: `req_${i}` } },
          }),
          10_000,
        ),
      );
      if (sent.length >= 200) await Promise.all(sent.splice(0));
    }
    await Promise.all(sent);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const lag = await consumers[0]?.lag();
      const { rows } = await fx.pg.admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit.events',
      );
      if ((rows[0]?.n ?? 0) >= EVENTS && lag?.pending === 0 && lag.ackPending === 0) break;
      assert.ok(Date.now() < deadline, `timed out: ${rows[0]?.n} rows, lag ${JSON.stringify(lag)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rows } = await fx.pg.admin.query<{
      org_id: string;
      n: number;
      max: string;
      requests: number;
    }>(
      `SELECT org_id, count(*)::int AS n, max(org_seq)::text AS max, count(DISTINCT request_id)::int AS requests
         FROM audit.events GROUP BY org_id ORDER BY org_id`,
    );
    const per = EVENTS / ORGS.length;
    assert.deepEqual(
      rows,
      ORGS.map((org_id) => ({ org_id, n: per, max: String(per), requests: per })),
    );
    assert.ok(duplicates >= 300, `the lost acks were redelivered and recognised (${duplicates})`);
    for (const org of ORGS) assert.equal((await fx.verify(org)).ok, true, org);
  });
});
