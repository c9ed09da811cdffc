import type { ServiceImpl } from '@connectrpc/connect';
import type pg from 'pg';
import type { AlertService } from '@fortress/proto/audit/v1/alert_pb';
import { AUDIT_STREAM, type EventBus } from '@fortress/kit/event-bus';
import type { Logger } from '@fortress/kit/log';
import { createActivityRepo } from '../adapters/pg/activity-repo.js';
import { createAlertEmailRepo } from '../adapters/pg/alert-email-repo.js';
import { createAlertSettingsRepo } from '../adapters/pg/alert-settings-repo.js';
import { createJobQueue } from '../adapters/redis/job-queue.js';
import { createMailer, type SmtpOptions } from '../adapters/smtp/mailer.js';
import { alertJobId, type AlertJob } from '../domain/alert-job.js';
import { createSweeper } from '../jobs/lost-job-sweeper.js';
import { createAlertRpc } from '../rpc/alert-service.js';
import { createAlertIntake } from './alert-intake.js';
import { createAnomalyJob } from './anomaly-job.js';
import { ALERT_QUEUE, startEmailWorker } from './email-worker.js';

/** The durable consumer of notifications that raises alert emails. */
export const ALERT_CONSUMER = 'audit-alerts';

/** Everything alerts need from the process that runs them. */
export interface AlertRuntimeOptions {
  pool: pg.Pool;
  bus: EventBus;
  redisUrl: string;
  /** The relay; without one no alert email is sent (settings and anomaly detection still work). */
  smtp: SmtpOptions | undefined;
  /** Attempts per email before it is given up. */
  attempts: number;
  /** The first retry's delay; each next one doubles. */
  backoffMs: number;
  concurrency: number;
  /** A pending email untouched this long is checked for a job Redis lost… */
  sweepAfterMs: number;
  /** …this often. */
  sweepIntervalMs: number;
  /** Longest wait for Redis to answer an enqueue. */
  redisTimeoutMs: number;
  /** How often anomaly detection runs. */
  anomalyIntervalMs: number;
  /** Longest wait for the stream's ack of an anomaly.detected notification. */
  publishTimeoutMs: number;
  logger: Logger;
  now?: () => Date;
  /** Told the outcome of every email attempt (metrics). */
  onAttempt?: (outcome: 'sent' | 'retry' | 'failed') => void;
}

/** Running alerts: the RPC handlers, readiness, and what to close. */
export interface AlertRuntime {
  rpc: ServiceImpl<typeof AlertService>;
  /** Alert email jobs waiting, delayed or running. */
  depth(): Promise<number>;
  /** Re-enqueues alert emails whose job Redis lost, now (also runs on a timer). */
  sweep(): Promise<number>;
  /** Runs anomaly detection now (also runs on a timer); how many anomalies it published. */
  detectAnomalies(): Promise<number>;
  close(): Promise<void>;
}

/**
 * Starts alerts (S9): the intake consumer on the notifications of the audit stream, the BullMQ
 * email worker and its sweeper (when a relay is configured), anomaly detection, and the
 * AlertService handlers.
 */
export async function startAlerts(o: AlertRuntimeOptions): Promise<AlertRuntime> {
  const settings = createAlertSettingsRepo(o.pool);
  const emails = createAlertEmailRepo(o.pool);
  const queue = createJobQueue<AlertJob>({
    name: ALERT_QUEUE,
    label: 'alert email',
    jobId: alertJobId,
    redisUrl: o.redisUrl,
    attempts: o.attempts,
    backoffMs: o.backoffMs,
    commandTimeoutMs: o.redisTimeoutMs,
    logger: o.logger,
  });
  const sweeper = createSweeper({
    records: emails,
    queue,
    label: 'alert email',
    olderMs: o.sweepAfterMs,
    intervalMs: o.sweepIntervalMs,
    logger: o.logger,
  });
  const mailer = o.smtp && createMailer(o.smtp);
  let worker: { close(): Promise<void> } | undefined;
  if (mailer) {
    worker = startEmailWorker({
      redisUrl: o.redisUrl,
      concurrency: o.concurrency,
      emails,
      mailer,
      logger: o.logger,
      ...(o.onAttempt ? { onAttempt: o.onAttempt } : {}),
    });
    const intake = createAlertIntake({ settings, emails, queue, logger: o.logger });
    await o.bus.consume({
      stream: AUDIT_STREAM,
      durable: ALERT_CONSUMER,
      filterSubject: 'audit.*.notification',
      // Notifications from before alerts existed are history, not news to send.
      startFrom: 'new',
      handle: async (env) => {
        await intake(env);
      },
      // Not an envelope at all: the audit writer keeps it in rejected_events.
      reject: () => Promise.resolve(),
    });
    sweeper.start();
  } else {
    o.logger.warn('no SMTP relay configured (FORTRESS_AUDIT_SMTP_HOST): alert emails are off');
  }
  const anomalies = createAnomalyJob({
    activity: createActivityRepo(o.pool),
    settings,
    publish: (env) => o.bus.publish(env, o.publishTimeoutMs),
    intervalMs: o.anomalyIntervalMs,
    logger: o.logger,
    ...(o.now ? { now: o.now } : {}),
  });
  anomalies.start();
  return {
    rpc: createAlertRpc({ settings, emails }),
    depth: () => queue.depth(),
    sweep: () => sweeper.run(),
    detectAnomalies: () => anomalies.run(),
    async close() {
      await anomalies.stop();
      await sweeper.stop();
      await worker?.close();
      mailer?.close();
      await queue.close();
    },
  };
}
