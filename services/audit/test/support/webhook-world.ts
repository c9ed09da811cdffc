import { randomBytes, randomUUID, createSecretKey } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import {
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
} from '@connectrpc/connect';
import { startNats, type NatsHandle } from '@fortress/harness/infra/nats';
import { startRedis, type RedisHandle } from '@fortress/harness/infra/redis';
import { connectEventBus, envelope, type EventBus } from '@fortress/kit/event-bus';
import { toConnectError } from '@fortress/kit/errors';
import { createLogger } from '@fortress/kit/log';
import { apiTelemetry } from '@fortress/kit/telemetry';
import { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import type { Lookup } from '../../src/adapters/dns/resolve-target.js';
import { createSecretBox } from '../../src/adapters/keys/secret-box.js';
import type { WebhookMode } from '../../src/domain/webhook-url.js';
import { startWebhooks, type WebhookRuntime } from '../../src/webhooks/webhook-runtime.js';

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
export interface WebhookWorld {
  pg: PgFixture;
  nats: NatsHandle;
  redis: RedisHandle;
  bus: EventBus;
  runtime: WebhookRuntime;
  client: Client<typeof WebhookService>;
  /** Every log line the runtime wrote (level debug and up). */
  logs: string[];
  /** Publishes a notification to the audit stream, acked by JetStream; its event id. */
  notify(orgId: string, type: string, data?: JsonObject): Promise<string>;
  stop(): Promise<void>;
}

/** The error boundary every Fortress server runs: domain errors to codes. */
const boundary: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toConnectError(err);
  }
};

/** Starts a world; stop it in `after`. */
export async function startWebhookWorld(o: WorldOptions = {}): Promise<WebhookWorld> {
  const dir = await mkdtemp(join(tmpdir(), 'fortress-webhook-test-'));
  const pg = await startPgFixture(['audit']);
  const [nats, redis] = await Promise.all([
    startNats({ dataDir: join(dir, 'nats') }),
    startRedis({ dataDir: join(dir, 'redis') }),
  ]);
  const logs: string[] = [];
  const logger = createLogger({
    service: 'audit-test',
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    }),
  });
  const bus = await connectEventBus({
    url: nats.url,
    service: 'audit-test',
    logger,
    telemetry: apiTelemetry('audit-test'),
  });
  const runtime = await startWebhooks({
    pool: pg.runtimePool('audit'),
    bus,
    redisUrl: redis.url,
    box: createSecretBox([{ keyId: 'wk-test', key: createSecretKey(randomBytes(32)) }]),
    mode: o.mode ?? 'development',
    attempts: o.attempts ?? 3,
    backoffMs: o.backoffMs ?? 20,
    timeoutMs: o.timeoutMs ?? 2000,
    concurrency: o.concurrency ?? 8,
    sweepAfterMs: o.sweepAfterMs ?? 3_600_000,
    sweepIntervalMs: o.sweepIntervalMs ?? 3_600_000,
    redisTimeoutMs: 1000,
    logger,
    ...(o.lookup ? { lookup: o.lookup } : {}),
  });
  const client = createClient(
    WebhookService,
    createRouterTransport(({ service }) => service(WebhookService, runtime.rpc), {
      router: { interceptors: [boundary] },
    }),
  );
  return {
    pg,
    nats,
    redis,
    bus,
    runtime,
    client,
    logs,
    async notify(orgId, type, data = { patKeyId: 'pat_1', model: 'claude-opus-4' }) {
      const env = envelope({
        eventId: randomUUID(),
        orgId,
        occurredAt: timestampNow(),
        source: 'policy',
        payload: { case: 'notification', value: { type, data } },
      });
      await bus.publish(env, 5000);
      return env.eventId;
    },
    async stop() {
      await runtime.close();
      await bus.close();
      await Promise.all([nats.stop(), redis.stop()]);
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
