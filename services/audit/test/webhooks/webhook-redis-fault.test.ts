import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { eventually } from '@fortress/harness/eventually';
import { DELIVERY_QUEUE } from '../../src/adapters/redis/delivery-queue.js';
import { redisConnection } from '../../src/adapters/redis/job-queue.js';
import { startReceiver, verify, type Receiver } from '../support/webhook-receiver.js';
import { startWebhookWorld, type WebhookWorld } from '../support/webhook-world.js';

const ORG = 'org_burst';
const BURST = 200;
const CONCURRENCY = 8;

/**
 * Redis is killed in the middle of a burst of notifications and started again, empty (the
 * test Redis keeps nothing on disk, so every queued job is lost with it): every event is still
 * delivered at least once, signed, and a receiver that dedupes by webhook-id ends up with
 * exactly the set published.
 */
describe('webhooks when Redis dies during a burst', function () {
  this.timeout(180_000);
  let world: WebhookWorld;
  let receiver: Receiver;

  before(async () => {
    world = await startWebhookWorld({
      attempts: 10,
      concurrency: CONCURRENCY,
      backoffMs: 100,
      // Jobs lost with Redis are found in PostgreSQL and enqueued again.
      sweepAfterMs: 1000,
      sweepIntervalMs: 250,
    });
    receiver = await startReceiver();
  });
  after(async () => {
    await receiver?.close();
    await world?.stop();
  });

  it('delivers every event at least once, and the receiver dedupes to exactly the set published', async () => {
    const { secret } = await world.client.createWebhook({
      orgId: ORG,
      url: receiver.url,
      actorId: 'admin_1',
    });
    const types = ['request.denied', 'user.overage', 'pat.spend_cap_reached', 'connector.error'];
    const published: string[] = [];
    const publish = async (n: number) => {
      for (let i = 0; i < n; i++)
        published.push(await world.notify(ORG, types[i % types.length] ?? 'user.overage', { i }));
    };

    // The receiver holds its answers until Redis is gone: the worker's slots are busy, and
    // every other job of the first half is waiting in Redis when it dies.
    let release = () => undefined as void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    receiver.respond = async () => {
      await gate;
      return { status: 204 };
    };
    await publish(BURST / 2);
    const queue = new Queue(DELIVERY_QUEUE, { connection: redisConnection(world.redis.url) });
    try {
      await eventually(
        async () =>
          (await queue.getWaitingCount()) === BURST / 2 - CONCURRENCY ? true : undefined,
        'the first half to be queued behind the busy worker',
      );
    } finally {
      await queue.close();
    }
    await world.redis.kill();
    release();
    await publish(BURST / 2);
    await world.redis.restart();

    const ids = await eventually(
      () => {
        const got = receiver.verifiedIds(secret);
        return got.size === BURST ? got : undefined;
      },
      'every event to be delivered',
      120_000,
    );
    assert.deepEqual(ids, new Set(published));
    for (const r of receiver.received) verify(secret, r);
    assert.deepEqual(
      await eventually(async () => {
        const { rows: now } = await world.pg.admin.query<{ state: string; n: number }>(
          `SELECT state, count(*)::int AS n FROM audit.webhook_deliveries WHERE org_id = $1 GROUP BY state`,
          [ORG],
        );
        return now.length === 1 && now[0]?.state === 'delivered' ? now : undefined;
      }, 'every delivery to be logged as delivered'),
      [{ state: 'delivered', n: BURST }],
    );
    // The jobs Redis lost were acknowledged on NATS already: the sweeper found them pending in
    // PostgreSQL and enqueued them again.
    const swept = world.logs
      .filter((l) => l.includes('webhook jobs lost by redis re-enqueued'))
      .reduce((n, l) => n + (JSON.parse(l) as { count: number }).count, 0);
    assert.ok(swept >= BURST / 2 - CONCURRENCY, `${swept} jobs re-enqueued`);
  });
});
