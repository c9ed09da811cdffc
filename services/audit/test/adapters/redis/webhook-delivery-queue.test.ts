import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { eventually } from '@fortress/harness/eventually';
import { startRedis, type RedisHandle } from '@fortress/harness/infra/redis';
import { createLogger } from '@fortress/kit/log';
import {
  createDeliveryQueue,
  DELIVERY_QUEUE,
  type DeliveryQueue,
} from '../../../src/adapters/redis/delivery-queue.js';
import { redisConnection } from '../../../src/adapters/redis/job-queue.js';
import { jobIdOf, type DeliveryJob } from '../../../src/domain/webhook-job.js';

const job = (): DeliveryJob => ({
  orgId: 'org_q',
  eventId: randomUUID(),
  subscriptionId: 'wh_q',
  replays: 0,
});

describe('webhook delivery queue (BullMQ on Redis)', function () {
  this.timeout(60_000);
  let dir: string;
  let redis: RedisHandle;
  let queue: DeliveryQueue;
  let inspect: Queue;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fortress-webhook-queue-'));
    redis = await startRedis({ dataDir: dir });
    queue = createDeliveryQueue({
      redisUrl: redis.url,
      attempts: 1,
      backoffMs: 10,
      commandTimeoutMs: 1000,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    inspect = new Queue(DELIVERY_QUEUE, { connection: redisConnection(redis.url) });
  });
  after(async () => {
    await inspect?.close();
    await queue?.close();
    await redis?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('adds one job per delivery id, however often it is enqueued, and reports the depth', async () => {
    const j = job();
    await queue.enqueue([j]);
    await queue.enqueue([j, j]);
    await queue.enqueue([{ ...j, replays: 1 }]);
    const ids = (await inspect.getWaiting()).map((x) => x.id);
    assert.deepEqual(ids.filter((id) => id?.startsWith(j.eventId)).sort(), [
      jobIdOf(j),
      jobIdOf({ ...j, replays: 1 }),
    ]);
    assert.equal(await queue.depth(), 2);
    await inspect.obliterate({ force: true });
  });

  it('recovers missing and failed jobs and leaves live ones alone', async () => {
    const [failing, missing, live] = [job(), job(), job()];
    let runs = 0;
    const worker = new Worker<DeliveryJob>(
      DELIVERY_QUEUE,
      (j) => {
        if (j.data.eventId !== failing.eventId) return Promise.resolve();
        runs++;
        // The first run fails for good, as when a last attempt's outcome was not recorded.
        return runs === 1 ? Promise.reject(new UnrecoverableError('x')) : Promise.resolve();
      },
      { connection: redisConnection(redis.url), autorun: false },
    );
    try {
      await queue.enqueue([failing]);
      void worker.run();
      await eventually(
        async () => ((await inspect.getJob(jobIdOf(failing)))?.failedReason ? true : undefined),
        'the job to fail',
      );
      await worker.pause();
      await queue.enqueue([live]);
      assert.equal(await queue.recover([failing, missing, live]), 2);
      assert.deepEqual(
        (await inspect.getWaiting()).map((x) => x.id).sort(),
        [jobIdOf(failing), jobIdOf(missing), jobIdOf(live)].sort(),
      );
      void worker.resume();
      await eventually(
        async () => ((await inspect.getCompletedCount()) === 3 ? true : undefined),
        'all three to run',
      );
      assert.equal(runs, 2);
    } finally {
      await worker.close();
    }
  });

  it('fails an enqueue at once while Redis is down, and works again once it is back', async () => {
    await redis.kill();
    try {
      await assert.rejects(queue.enqueue([job()]));
      await assert.rejects(queue.ready());
    } finally {
      await redis.restart();
    }
    await eventually(() => queue.enqueue([job()]).then(() => true), 'an enqueue after the restart');
    assert.equal(await queue.ready(), true);
  });
});
