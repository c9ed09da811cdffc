import type { Logger } from '@fortress/kit/log';
import { jobIdOf, type DeliveryJob } from '../../domain/webhook-job.js';
import { createJobQueue, type JobQueue } from './job-queue.js';

/** The BullMQ queue of webhook deliveries (no ":" allowed in the name). */
export const DELIVERY_QUEUE = 'fortress-webhook-deliveries';

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

/** Where delivery jobs are enqueued (see JobQueue). */
export type DeliveryQueue = JobQueue<DeliveryJob>;

/** The producer side of the delivery queue: one job per (event, subscription, replay). */
export function createDeliveryQueue(o: DeliveryQueueOptions): DeliveryQueue {
  return createJobQueue({ ...o, name: DELIVERY_QUEUE, label: 'webhook', jobId: jobIdOf });
}
