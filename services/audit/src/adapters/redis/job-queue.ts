import { Queue, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@fortress/kit/log';

/** How long finished jobs stay in Redis (their ids dedupe re-enqueues meanwhile). */
const KEEP_COMPLETED_S = 24 * 3600;
const KEEP_FAILED_S = 7 * 24 * 3600;

/** Options of a job queue. */
export interface JobQueueOptions<J> {
  /** The BullMQ queue's name (no ":" allowed). */
  name: string;
  /** What the queue carries, for log lines ("webhook", "alert email"). */
  label: string;
  /** The job id of a job: the same for the same work, so enqueuing it again adds nothing. */
  jobId: (job: J) => string;
  redisUrl: string;
  /** Attempts per job before it fails for good. */
  attempts: number;
  /** The first retry's delay; each next one doubles it. */
  backoffMs: number;
  /** Longest wait for Redis to answer one command. */
  commandTimeoutMs: number;
  logger: Logger;
}

/** Where jobs whose record is in PostgreSQL are enqueued. */
export interface JobQueue<J> {
  /**
   * Adds the jobs and resolves once Redis has stored them; rejects at once while Redis is
   * unreachable (the caller must then not acknowledge what it was asked to do).
   */
  enqueue(jobs: readonly J[]): Promise<void>;
  /**
   * Makes sure each job has a live one in Redis: enqueues those Redis no longer has, and
   * retries those that failed though their record is still pending (the last attempt's
   * outcome never reached PostgreSQL). Resolves with how many needed it.
   */
  recover(jobs: readonly J[]): Promise<number>;
  ready(): Promise<boolean>;
  /** Jobs waiting to run now or later (waiting, delayed, active): the queue depth. */
  depth(): Promise<number>;
  close(): Promise<void>;
}

/** Connection options every queue client shares; BullMQ requires `maxRetriesPerRequest: null` for workers. */
export function redisConnection(
  url: string,
  extra: Record<string, unknown> = {},
): ConnectionOptions {
  return { url, maxRetriesPerRequest: null, ...extra };
}

/**
 * The producer side of a BullMQ queue whose jobs are recorded in PostgreSQL first. Its
 * connection has no offline queue and a command timeout, so an add fails fast while Redis is
 * down instead of waiting for it: the consumer that called it leaves the event unacknowledged
 * and NATS redelivers it later.
 */
export function createJobQueue<J extends object>(o: JobQueueOptions<J>): JobQueue<J> {
  const queue = new Queue(o.name, {
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
    if (!down) o.logger.warn({ err }, `${o.label} queue: redis unavailable`);
    down = true;
  });
  return {
    async enqueue(jobs) {
      if (jobs.length === 0) return;
      await queue.addBulk(
        jobs.map((job) => ({ name: o.label, data: job, opts: { jobId: o.jobId(job) } })),
      );
      down = false;
    },
    async recover(jobs) {
      const lost: J[] = [];
      let failed = 0;
      for (const job of jobs) {
        const found = await queue.getJob(o.jobId(job));
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
