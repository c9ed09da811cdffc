import type { Logger } from '@fortress/kit/log';
import type { DeliveryRepo } from '../adapters/pg/delivery-repo.js';
import type { DeliveryQueue } from '../adapters/redis/delivery-queue.js';

/** What the sweeper uses. */
export interface SweeperOptions {
  deliveries: Pick<DeliveryRepo, 'stalled' | 'touch'>;
  queue: Pick<DeliveryQueue, 'recover'>;
  /** A pending delivery untouched this long is checked for a lost job. */
  olderMs: number;
  intervalMs: number;
  /** Most deliveries checked per run. */
  batch?: number;
  logger: Logger;
}

/**
 * Re-enqueues deliveries whose job Redis lost (a Redis without persistence that restarted, a
 * failover that dropped writes): pending in PostgreSQL, untouched for a while, and no job
 * under their id — or a failed one, when the outcome of its last attempt never reached
 * PostgreSQL. Each checked delivery is touched so it is looked at again only after another
 * `olderMs`; a live job is left alone.
 */
export function createSweeper(o: SweeperOptions) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;

  async function sweep(): Promise<number> {
    const stalled = await o.deliveries.stalled(o.olderMs, o.batch ?? 500);
    const recovered = await o.queue.recover(stalled);
    for (const job of stalled) await o.deliveries.touch(job);
    if (recovered) o.logger.warn({ count: recovered }, 'webhook jobs lost by redis re-enqueued');
    return recovered;
  }

  /** One run (runs never overlap): how many jobs were re-enqueued. */
  const run = (): Promise<number> => (running ??= sweep().finally(() => (running = undefined)));

  return {
    run,
    start() {
      timer = setInterval(() => {
        run().catch((err: unknown) => o.logger.warn({ err }, 'webhook sweep failed'));
      }, o.intervalMs);
      timer.unref();
    },
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
