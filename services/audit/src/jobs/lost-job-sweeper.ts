import type { Logger } from '@fortress/kit/log';
import type { JobQueue } from '../adapters/redis/job-queue.js';

/** The PostgreSQL side of a swept queue: its pending records and a way to mark them checked. */
export interface PendingRecords<J> {
  /** Pending records untouched for `olderMs`, oldest first, as the jobs that run them. */
  stalled(olderMs: number, limit: number): Promise<J[]>;
  /** Marks a pending record as looked at now. */
  touch(job: J): Promise<void>;
}

/** What the sweeper uses. */
export interface SweeperOptions<J> {
  records: PendingRecords<J>;
  queue: Pick<JobQueue<J>, 'recover'>;
  /** What the jobs are, for log lines ("webhook", "alert email"). */
  label: string;
  /** A pending record untouched this long is checked for a lost job. */
  olderMs: number;
  intervalMs: number;
  /** Most records checked per run. */
  batch?: number;
  logger: Logger;
}

/**
 * Re-enqueues jobs Redis lost (a Redis without persistence that restarted, a failover that
 * dropped writes): pending in PostgreSQL, untouched for a while, and no job under their id —
 * or a failed one, when the outcome of its last attempt never reached PostgreSQL. Each checked
 * record is touched so it is looked at again only after another `olderMs`; a live job is left
 * alone. Webhook deliveries and alert emails share it.
 */
export function createSweeper<J>(o: SweeperOptions<J>) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function sweep(): Promise<number> {
    const stalled = await o.records.stalled(o.olderMs, o.batch ?? 500);
    const recovered = await o.queue.recover(stalled);
    for (const job of stalled) await o.records.touch(job);
    if (recovered) o.logger.warn({ count: recovered }, `${o.label} jobs lost by redis re-enqueued`);
    return recovered;
  }

  /** One run (runs never overlap): how many jobs were re-enqueued. */
  const run = (): Promise<number> => (running ??= sweep().finally(() => (running = undefined)));

  return {
    run,
    start() {
      timer = setInterval(() => {
        run().catch((err: unknown) => o.logger.warn({ err }, `${o.label} sweep failed`));
      }, o.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
