import { createClient, createRouterTransport, type Client } from '@connectrpc/connect';
import { eventually } from '@fortress/harness/eventually';
import type pg from 'pg';
import { startSmtpSink, type SmtpSink } from '@fortress/harness/infra/smtp-sink';
import { Secret } from '@fortress/kit/secret';
import { AlertService, type Alert } from '@fortress/proto/audit/v1/alert_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { createAlertEmailRepo } from '../../src/adapters/pg/alert-email-repo.js';
import { createAlertSettingsRepo } from '../../src/adapters/pg/alert-settings-repo.js';
import { createJobQueue } from '../../src/adapters/redis/job-queue.js';
import { createAlertIntake } from '../../src/alerts/alert-intake.js';
import { startAlerts, type AlertRuntime } from '../../src/alerts/alert-runtime.js';
import { ALERT_QUEUE } from '../../src/alerts/email-worker.js';
import { alertJobId, type AlertJob } from '../../src/domain/alert-job.js';
import { boundary, startBusWorld, type BusWorld } from './bus-world.js';

/** The relay's login in alert worlds; the password is a canary no output may contain. */
export const SMTP_USER = 'fortress-alerts';
export const SMTP_PASSWORD = 'smtp-canary-7f3a9c2e41b8d605';

/** How a world runs alerts. */
export interface AlertWorldOptions {
  attempts?: number;
  backoffMs?: number;
  /** The clock anomaly detection reads. */
  now?: () => Date;
}

/** PostgreSQL, NATS, Redis, a real SMTP server on loopback and the alert runtime. */
export interface AlertWorld extends BusWorld {
  pool: pg.Pool;
  smtp: SmtpSink;
  runtime: AlertRuntime;
  client: Client<typeof AlertService>;
  /**
   * Handles an envelope as the intake consumer does — a second replica, or NATS delivering it
   * again after JetStream's duplicate window; the number of jobs it (re-)enqueued.
   */
  redeliver(env: EventEnvelope): Promise<number>;
  /** The alert of `orgId` with this alert or event id, once `done` holds for it. */
  alertWhen(orgId: string, id: string, done: (a: Alert) => boolean): Promise<Alert>;
  stop(): Promise<void>;
}

/** Starts a world; stop it in `after`. */
export async function startAlertWorld(o: AlertWorldOptions = {}): Promise<AlertWorld> {
  const base = await startBusWorld('alert');
  const smtp = await startSmtpSink({ auth: { user: SMTP_USER, password: SMTP_PASSWORD } });
  const pool = base.pg.runtimePool('audit');
  const runtime = await startAlerts({
    pool,
    bus: base.bus,
    redisUrl: base.redis.url,
    smtp: {
      host: smtp.host,
      port: smtp.port,
      tls: 'none',
      user: SMTP_USER,
      password: new Secret(SMTP_PASSWORD),
      from: 'Fortress Alerts <alerts@fortress.test>',
      timeoutMs: 2000,
    },
    attempts: o.attempts ?? 12,
    backoffMs: o.backoffMs ?? 20,
    concurrency: 4,
    sweepAfterMs: 3_600_000,
    sweepIntervalMs: 3_600_000,
    redisTimeoutMs: 1000,
    anomalyIntervalMs: 3_600_000,
    publishTimeoutMs: 5000,
    logger: base.logger,
    ...(o.now ? { now: o.now } : {}),
  });
  const queue = createJobQueue<AlertJob>({
    name: ALERT_QUEUE,
    label: 'alert email',
    jobId: alertJobId,
    redisUrl: base.redis.url,
    attempts: o.attempts ?? 12,
    backoffMs: o.backoffMs ?? 20,
    commandTimeoutMs: 1000,
    logger: base.logger,
  });
  const intake = createAlertIntake({
    settings: createAlertSettingsRepo(pool),
    emails: createAlertEmailRepo(pool),
    queue,
    logger: base.logger,
  });
  const client = createClient(
    AlertService,
    createRouterTransport(({ service }) => service(AlertService, runtime.rpc), {
      router: { interceptors: [boundary] },
    }),
  );
  return {
    ...base,
    pool,
    smtp,
    runtime,
    client,
    redeliver: intake,
    alertWhen: (orgId, id, done) =>
      eventually(async () => {
        const { alerts } = await client.listAlerts({ orgId, page: { pageSize: 500 } });
        return alerts.find((a) => (a.alertId === id || a.eventId === id) && done(a));
      }, `alert ${id} of ${orgId}`),
    async stop() {
      await runtime.close();
      await queue.close();
      await smtp.close();
      await base.stop();
    },
  };
}
