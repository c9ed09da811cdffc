import { UnrecoverableError, Worker } from 'bullmq';
import type { Logger } from '@fortress/kit/log';
import type { AlertEmailRepo } from '../adapters/pg/alert-email-repo.js';
import { redisConnection } from '../adapters/redis/job-queue.js';
import type { Mailer } from '../adapters/smtp/mailer.js';
import type { AlertJob } from '../domain/alert-job.js';

/** The BullMQ queue of alert emails (no ":" allowed in the name). */
export const ALERT_QUEUE = 'fortress-alert-emails';

/** What one attempt uses. */
export interface EmailAttemptDeps {
  emails: Pick<AlertEmailRepo, 'message' | 'recordAttempt'>;
  mailer: Mailer;
  logger: Logger;
  /** Told the outcome of every attempt made (metrics). */
  onAttempt?: (outcome: 'sent' | 'retry' | 'failed') => void;
}

/** How an attempt ended: sent, to be retried, given up on, or nothing to do. */
export type EmailOutcome = 'sent' | 'retry' | 'failed' | 'skipped';

/**
 * One attempt to send an alert email: nothing to do unless it is pending (an email already
 * sent is never sent again, whoever enqueues it); the stored subject and body go to the
 * stored recipients with a Message-ID fixed per alert, so that in the one case where a second
 * copy can go out — the relay took it and the process died before PostgreSQL heard — mail
 * clients see the same message. Logs carry ids and an error class, never an address or text.
 */
export function createEmailAttempt(deps: EmailAttemptDeps) {
  return async (job: AlertJob, last: boolean): Promise<EmailOutcome> => {
    const m = await deps.emails.message(job);
    if (!m || m.state !== 'pending') return 'skipped';
    const result = await deps.mailer.send({
      messageId: `${job.alertId}@fortress.alerts`,
      to: m.recipients,
      subject: m.subject,
      text: m.body,
      headers: {
        // RFC 3834: no auto-replies to an automatic message.
        'Auto-Submitted': 'auto-generated',
        'X-Fortress-Alert': m.type,
        'X-Fortress-Org': job.orgId,
      },
    });
    const final = result.ok || last || result.permanent;
    const state = result.ok ? 'sent' : final ? 'failed' : 'pending';
    const attempt = await deps.emails.recordAttempt(job, state, result.ok ? null : result.error);
    if (result.ok && result.rejected > 0)
      deps.logger.warn(
        { orgId: job.orgId, alertId: job.alertId, rejected: result.rejected },
        'alert email sent; the relay refused some recipients',
      );
    if (!result.ok)
      deps.logger.warn(
        { orgId: job.orgId, alertId: job.alertId, attempt, error: result.error, final },
        final ? 'alert email failed; giving up' : 'alert email failed; will retry',
      );
    const outcome = result.ok ? 'sent' : final ? 'failed' : 'retry';
    deps.onAttempt?.(outcome);
    return outcome;
  };
}

/** Options of the alert email worker. */
export interface EmailWorkerOptions extends EmailAttemptDeps {
  redisUrl: string;
  /** Emails in flight at once per process. */
  concurrency: number;
}

/**
 * Runs alert email jobs, one attempt per run. A failed attempt throws so that BullMQ retries
 * it with exponential backoff (the queue's job options); the last one, or one the relay
 * refused for good, ends the job as failed.
 */
export function startEmailWorker(o: EmailWorkerOptions): { close(): Promise<void> } {
  const attempt = createEmailAttempt(o);
  const worker = new Worker<AlertJob>(
    ALERT_QUEUE,
    async (job) => {
      const last = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const outcome = await attempt(job.data, last);
      // Stored in Redis as the job's failure reason: no address, no text.
      if (outcome === 'retry') throw new Error('alert email attempt failed');
      if (outcome === 'failed') throw new UnrecoverableError('alert email failed');
    },
    { connection: redisConnection(o.redisUrl), concurrency: o.concurrency },
  );
  let down = false;
  worker.on('error', (err) => {
    if (!down) o.logger.warn({ err }, 'alert email worker: redis unavailable');
    down = true;
  });
  worker.on('active', () => (down = false));
  return { close: () => worker.close() };
}
