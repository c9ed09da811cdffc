import { UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '@fortress/kit/log';
import { DELIVERY_QUEUE } from '../adapters/redis/delivery-queue.js';
import { redisConnection } from '../adapters/redis/job-queue.js';
import type { DeliveryJob } from '../domain/webhook-job.js';
import { createAttempt, type AttemptDeps } from './delivery-attempt.js';

/** Options of the delivery worker. */
export interface DeliveryWorkerOptions extends AttemptDeps {
  redisUrl: string;
  /** Deliveries in flight at once per process. */
  concurrency: number;
  logger: Logger;
}

/** A running delivery worker. */
export interface DeliveryWorker {
  close(): Promise<void>;
}

/**
 * Runs delivery jobs: each run is one attempt. A failed attempt throws so that BullMQ retries
 * it with exponential backoff (the queue's job options); the last one, or one that can never
 * succeed, ends the job as failed — the delivery log then says dead-lettered.
 */
export function startDeliveryWorker(o: DeliveryWorkerOptions): DeliveryWorker {
  const attempt = createAttempt(o);
  const worker = new Worker<DeliveryJob>(
    DELIVERY_QUEUE,
    async (job) => {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await attempt(job.data, last);
      // Stored in Redis as the job's failure reason: no secret, no signature, no body.
      if (outcome === 'retry') throw new Error('webhook delivery attempt failed');
      if (outcome === 'failed') throw new UnrecoverableError('webhook delivery failed');
    },
    {
      connection: redisConnection(o.redisUrl),
      concurrency: o.concurrency,
    },
  );
  let down = false;
  worker.on('error', (err) => {
    if (!down) o.logger.warn({ err }, 'webhook worker: redis unavailable');
    down = true;
  });
  worker.on('active', () => (down = false));
  return { close: () => worker.close() };
}
