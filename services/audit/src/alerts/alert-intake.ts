import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ID_PATTERN } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { AlertEmailRepo } from '../adapters/pg/alert-email-repo.js';
import type { AlertSettingsRepo } from '../adapters/pg/alert-settings-repo.js';
import type { JobQueue } from '../adapters/redis/job-queue.js';
import { alertEmailOf, type AlertNotification } from '../domain/alert-email.js';
import type { AlertJob } from '../domain/alert-job.js';
import { wantsEmail } from '../domain/alert-settings.js';
import { isAlertType } from '../domain/alert-types.js';
import { isEventId } from '../domain/webhook-message.js';

/** What the intake uses. */
export interface AlertIntakeDeps {
  settings: Pick<AlertSettingsRepo, 'get'>;
  emails: Pick<AlertEmailRepo, 'accept'>;
  queue: Pick<JobQueue<AlertJob>, 'enqueue'>;
  logger: Logger;
}

/** The alert a notification raises, or why it raises none. */
export function alertOf(env: EventEnvelope): { alert: AlertNotification } | { skip: string } {
  if (env.payload.case !== 'notification') return { skip: 'not a notification' };
  const { type, data } = env.payload.value;
  if (!isAlertType(type)) return { skip: 'not an alert type' };
  if (!ID_PATTERN.test(env.orgId) || !env.orgId.startsWith('org_')) return { skip: 'no org' };
  const eventId = env.eventId.toLowerCase();
  if (!isEventId(eventId)) return { skip: 'event id is not a uuid' };
  const occurredAt = env.occurredAt ? timestampDate(env.occurredAt) : new Date();
  return { alert: { orgId: env.orgId, eventId, type, occurredAt, data: data ?? {} } };
}

/**
 * Turns one notification into an alert email when its org wants one: rendered, recorded in
 * PostgreSQL, then enqueued (job id from the alert id). It resolves only once both have
 * answered, and the consumer acknowledges the event only then; if either is down it throws
 * and the event is redelivered. A redelivered event records nothing new and re-adds the job
 * under the same id, which BullMQ ignores while it exists; once sent, nothing is enqueued.
 */
export function createAlertIntake(deps: AlertIntakeDeps) {
  return async (env: EventEnvelope): Promise<number> => {
    const a = alertOf(env);
    if ('skip' in a) return 0;
    const { alert } = a;
    const settings = await deps.settings.get(alert.orgId);
    if (!settings || !wantsEmail(settings, alert.type)) {
      deps.logger.debug(
        { orgId: alert.orgId, eventId: alert.eventId, type: alert.type },
        'no alert email wanted',
      );
      return 0;
    }
    const email = alertEmailOf(alert);
    const jobs = await deps.emails.accept(alert.orgId, {
      ...email,
      eventId: alert.eventId,
      type: alert.type,
      recipients: settings.recipients,
    });
    await deps.queue.enqueue(jobs);
    return jobs.length;
  };
}
