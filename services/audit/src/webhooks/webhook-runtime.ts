import type { ServiceImpl } from '@connectrpc/connect';
import type pg from 'pg';
import type { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import { AUDIT_STREAM, type EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import type { Lookup } from '../adapters/dns/resolve-target.js';
import type { SecretBox } from '../adapters/keys/secret-box.js';
import { createDeliveryRepo } from '../adapters/pg/delivery-repo.js';
import { createWebhookRepo } from '../adapters/pg/webhook-repo.js';
import { createDeliveryQueue } from '../adapters/redis/delivery-queue.js';
import type { WebhookMode } from '../domain/webhook-url.js';
import { createSweeper } from '../jobs/lost-job-sweeper.js';
import { createWebhookRpc } from '../rpc/webhook-service.js';
import { startDeliveryWorker } from './delivery-worker.js';
import { createFanOut } from './fan-out.js';

/** The durable consumer of notifications that fans them out to webhooks. */
export const WEBHOOK_CONSUMER = 'audit-webhooks';

/** Everything webhooks need from the process that runs them. */
export interface WebhookRuntimeOptions {
  pool: pg.Pool;
  bus: EventBus;
  redisUrl: string;
  box: SecretBox;
  mode: WebhookMode;
  /** Attempts per delivery before it is dead-lettered. */
  attempts: number;
  /** The first retry's delay; each next one doubles. */
  backoffMs: number;
  /** Per attempt, for the whole exchange with the receiver. */
  timeoutMs: number;
  concurrency: number;
  /** A pending delivery untouched this long is checked for a job Redis lost… */
  sweepAfterMs: number;
  /** …this often. */
  sweepIntervalMs: number;
  /** Longest wait for Redis to answer an enqueue. */
  redisTimeoutMs: number;
  logger: Logger;
  lookup?: Lookup;
  /** Told the outcome of every delivery attempt (metrics). */
  onAttempt?: (outcome: 'delivered' | 'retry' | 'failed') => void;
}

/** Running webhooks: the RPC handlers, readiness, and what to close. */
export interface WebhookRuntime {
  rpc: ServiceImpl<typeof WebhookService>;
  /** True when Redis answers. */
  ready(): Promise<boolean>;
  /** Delivery jobs waiting, delayed or running. */
  depth(): Promise<number>;
  /** Re-enqueues deliveries whose job Redis lost, now (also runs on a timer). */
  sweep(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts webhooks (S9): the fan-out consumer on the notifications of the audit stream, the
 * BullMQ delivery worker, the sweeper, and the WebhookService handlers.
 */
export async function startWebhooks(o: WebhookRuntimeOptions): Promise<WebhookRuntime> {
  const webhooks = createWebhookRepo(o.pool);
  const deliveries = createDeliveryRepo(o.pool);
  const queue = createDeliveryQueue({
    redisUrl: o.redisUrl,
    attempts: o.attempts,
    backoffMs: o.backoffMs,
    commandTimeoutMs: o.redisTimeoutMs,
    logger: o.logger,
  });
  const fanOut = createFanOut({ deliveries, queue, logger: o.logger });
  const lookup = o.lookup ? { lookup: o.lookup } : {};
  const worker = startDeliveryWorker({
    redisUrl: o.redisUrl,
    concurrency: o.concurrency,
    deliveries,
    box: o.box,
    mode: o.mode,
    timeoutMs: o.timeoutMs,
    logger: o.logger,
    ...lookup,
    ...(o.onAttempt ? { onAttempt: o.onAttempt } : {}),
  });
  const sweeper = createSweeper({
    records: deliveries,
    queue,
    label: 'webhook',
    olderMs: o.sweepAfterMs,
    intervalMs: o.sweepIntervalMs,
    logger: o.logger,
  });
  await o.bus.consume({
    stream: AUDIT_STREAM,
    durable: WEBHOOK_CONSUMER,
    filterSubject: 'audit.*.notification',
    // Notifications from before webhooks existed are history, not news to deliver.
    startFrom: 'new',
    handle: async (env) => {
      await fanOut(env);
    },
    // Not an envelope at all: the audit writer keeps it in rejected_events; nothing to send.
    reject: () => Promise.resolve(),
  });
  sweeper.start();
  return {
    rpc: createWebhookRpc({
      webhooks,
      deliveries,
      queue,
      box: o.box,
      mode: o.mode,
      logger: o.logger,
      ...lookup,
    }),
    ready: () => queue.ready(),
    depth: () => queue.depth(),
    sweep: () => sweeper.run(),
    async close() {
      await sweeper.stop();
      await worker.close();
      await queue.close();
    },
  };
}
