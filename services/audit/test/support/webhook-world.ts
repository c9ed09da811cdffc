import { randomBytes, createSecretKey } from 'node:crypto';
import { createClient, createRouterTransport, type Client } from '@connectrpc/connect';
import { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import type { Lookup } from '../../src/adapters/dns/resolve-target.js';
import { createSecretBox } from '../../src/adapters/keys/secret-box.js';
import type { WebhookMode } from '../../src/domain/webhook-url.js';
import { startWebhooks, type WebhookRuntime } from '../../src/webhooks/webhook-runtime.js';
import { boundary, startBusWorld, type BusWorld } from './bus-world.js';

/** How a world runs webhooks. */
export interface WorldOptions {
  mode?: WebhookMode;
  attempts?: number;
  backoffMs?: number;
  timeoutMs?: number;
  concurrency?: number;
  sweepAfterMs?: number;
  sweepIntervalMs?: number;
  lookup?: Lookup;
}

/** PostgreSQL, NATS, Redis and the webhook runtime of one test file. */
export interface WebhookWorld extends BusWorld {
  runtime: WebhookRuntime;
  client: Client<typeof WebhookService>;
}

/** Starts a world; stop it in `after`. */
export async function startWebhookWorld(o: WorldOptions = {}): Promise<WebhookWorld> {
  const base = await startBusWorld('webhook');
  const runtime = await startWebhooks({
    pool: base.pg.runtimePool('audit'),
    bus: base.bus,
    redisUrl: base.redis.url,
    box: createSecretBox([{ keyId: 'wk-test', key: createSecretKey(randomBytes(32)) }]),
    mode: o.mode ?? 'development',
    attempts: o.attempts ?? 3,
    backoffMs: o.backoffMs ?? 20,
    timeoutMs: o.timeoutMs ?? 2000,
    concurrency: o.concurrency ?? 8,
    sweepAfterMs: o.sweepAfterMs ?? 3_600_000,
    sweepIntervalMs: o.sweepIntervalMs ?? 3_600_000,
    redisTimeoutMs: 1000,
    logger: base.logger,
    ...(o.lookup ? { lookup: o.lookup } : {}),
  });
  const client = createClient(
    WebhookService,
    createRouterTransport(({ service }) => service(WebhookService, runtime.rpc), {
      router: { interceptors: [boundary] },
    }),
  );
  return {
    ...base,
    runtime,
    client,
    async stop() {
      await runtime.close();
      await base.stop();
    },
  };
}
