import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { Interceptor } from '@connectrpc/connect';
import { startNats, type NatsHandle } from '@fortress/harness/infra/nats';
import { startRedis, type RedisHandle } from '@fortress/harness/infra/redis';
import { connectEventBus, envelope, type EventBus } from '@fortress/kit/event-bus';
import { toConnectError } from '@fortress/kit/errors';
import { createLogger, type Logger } from '@fortress/kit/log';
import { apiTelemetry } from '@fortress/kit/telemetry';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';

/** PostgreSQL with the audit schema, NATS with the audit stream, Redis, and a captured log. */
export interface BusWorld {
  dir: string;
  pg: PgFixture;
  nats: NatsHandle;
  redis: RedisHandle;
  bus: EventBus;
  logger: Logger;
  /** Every log line written through `logger` (level debug and up). */
  logs: string[];
  /** A notification envelope of `orgId` with a fresh event id (not published). */
  notification(orgId: string, type: string, data: JsonObject): EventEnvelope;
  /** Publishes a notification to the audit stream, acked by JetStream; its event id. */
  notify(orgId: string, type: string, data?: JsonObject): Promise<string>;
  stop(): Promise<void>;
}

/** The error boundary every Fortress server runs: domain errors to codes. */
export const boundary: Interceptor = (next) => async (req) => {
  try {
    return await next(req);
  } catch (err) {
    throw toConnectError(err);
  }
};

/** Starts the infrastructure of an audit integration test; stop it in `after`. */
export async function startBusWorld(name: string): Promise<BusWorld> {
  const dir = await mkdtemp(join(tmpdir(), `fortress-${name}-test-`));
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
  const notification = (orgId: string, type: string, data: JsonObject) =>
    envelope({
      eventId: randomUUID(),
      orgId,
      occurredAt: timestampNow(),
      source: 'policy',
      payload: { case: 'notification', value: { type, data } },
    });
  return {
    dir,
    pg,
    nats,
    redis,
    bus,
    logger,
    logs,
    notification,
    async notify(orgId, type, data = { patKeyId: 'pat_1', model: 'claude-opus-4' }) {
      const env = notification(orgId, type, data);
      await bus.publish(env, 5000);
      return env.eventId;
    },
    async stop() {
      await bus.close();
      await Promise.all([nats.stop(), redis.stop()]);
      await pg.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
