import type { Logger } from '@fortress/kit/log';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { DeliveryRepo } from '../adapters/pg/delivery-repo.js';
import type { DeliveryQueue } from '../adapters/redis/delivery-queue.js';
import { filterMatches } from '../domain/webhook-events.js';
import { webhookMessageOf } from '../domain/webhook-message.js';

/** What the fan-out uses. */
export interface FanOutDeps {
  deliveries: Pick<DeliveryRepo, 'accept'>;
  queue: Pick<DeliveryQueue, 'enqueue'>;
  logger: Logger;
}

/**
 * Turns one notification into deliveries: one per enabled subscription of its org whose
 * filter wants it, recorded in PostgreSQL, then one BullMQ job each. It resolves only once
 * both have answered, and the consumer acknowledges the event only then; if either is down it
 * throws and the event is redelivered. A redelivered event records nothing new and re-adds
 * jobs under the same ids, which BullMQ ignores while they exist.
 */
export function createFanOut(deps: FanOutDeps) {
  return async (env: EventEnvelope): Promise<number> => {
    const m = webhookMessageOf(env);
    if ('skip' in m) {
      if (env.payload.case === 'notification')
        deps.logger.debug(
          { eventId: env.eventId, reason: m.skip },
          'notification not for webhooks',
        );
      return 0;
    }
    const { message } = m;
    const jobs = await deps.deliveries.accept(message.orgId, message, (types) =>
      filterMatches(types, message.type),
    );
    await deps.queue.enqueue(jobs);
    return jobs.length;
  };
}
