import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@fortress/kit/log';
import { jobIdOf, type DeliveryJob } from '../../domain/webhook-job.js';

/** The BullMQ queue of webhook deliveries (no ":" allowed in the name). */
export const DELIVERY_QUEUE = 'fortress-webhook-deliveries';

/** How long finished jobs stay in Redis (their ids dedupe re-enqueues meanwhile). */
const KEEP_COMPLETED_S = 24 * 3600;
const KEEP_FAILED_S = 7 * 24 * 3600;

/** Options of the delivery queue. */
export interface DeliveryQueueOptions {
  redisUrl: string;
  /** Attempts per job before the delivery is dead-lettered. */
  attempts: number;
  /** The first retry's delay; each next one doubles it. */
  backoffMs: number;
  /** Longest wait for Redis to answer one command. */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Where delivery jobs are enqueued. */
export interface DeliveryQueue {
  /**
   * Adds the jobs and resolves once Redis has stored them; rejects at once while Redis is
   * unreachable (the caller must then not acknowledge what it was asked to deliver).
   */
  enqueue(jobs: readonly DeliveryJob[]): Promise<void>;
  /**
   * Makes sure each delivery has a live job: enqueues those Redis no longer has, and retries
   * those whose job failed though the delivery is still pending (the last attempt's outcome
   * never reached PostgreSQL). Resolves with how many needed it.
   */
  recover(jobs: readonly DeliveryJob[]): Promise<number>;
  ready(): Promise<boolean>;
  /** Jobs waiting to run now or later (waiting, delayed, active): the queue depth. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

/** Connection options every delivery client shares; BullMQ requires `maxRetriesPerRequest: null` for workers. */
export function redisConnection(
  url: string,
  extra: Record<string, unknown> = {},
): ConnectionOptions {
  return { url, maxRetriesPerRequest: null, ...extra };
}

/**
 * The producer side of the delivery queue. Its connection has no offline queue and a command
 * timeout, so an add fails fast while Redis is down instead of waiting for it: the consumer
 * that called it leaves the event unacknowledged and NATS redelivers it later.
 */
export function createDeliveryQueue(o: DeliveryQueueOptions): DeliveryQueue {
  const queue = new Queue(DELIVERY_QUEUE, {
    connection: redisConnection(o.redisUrl, {
      enableOfflineQueue: false,
      commandTimeout: o.commandTimeoutMs,
    }),
    defaultJobOptions: {
      attempts: o.attempts,
      backoff: { type: 'exponential', delay: o.backoffMs },
      removeOnComplete: { age: KEEP_COMPLETED_S },
      removeOnFail: { age: KEEP_FAILED_S },
    },
  });
  let down = false;
  queue.on('error', (err) => {
    // Once per outage: the client retries on its own and would repeat this every second.
    if (!down) o.logger.warn({ err }, 'webhook queue: redis unavailable');
    down = true;
  });
  return {
    async enqueue(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((job) => ({ name: 'deliver', data: job, opts: { jobId: jobIdOf(job) } })),
      );
      down = false;
    },
    async recover(jobs) {
      const lost: DeliveryJob[] = [];
      let failed = 0;
      for (const job of jobs) {
        const found = await queue.getJob(jobIdOf(job));
        if (!found) lost.push(job);
        else if (await found.isFailed()) {
          await found.retry('failed');
          failed++;
        }
      }
      await this.enqueue(lost);
      return lost.length + failed;
    },
    async ready() {
      const client = await queue.getBackend().client;
      return (await client.runCommand('ping', [])) === 'PONG';
    },
    async depth() {
      const c = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      return Object.values(c).reduce((a, b) => a + b, 0);
    },
    close: () => queue.close(),
  };
}
