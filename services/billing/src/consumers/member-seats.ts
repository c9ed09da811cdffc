import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { FailedPreconditionError } from '@fortress/kit/errors';
import type { Logger } from '@fortress/kit/log';
import type { BillingStore } from '../adapters/pg/billing-store.js';
import { seatsOf } from '../domain/member-seats.js';

/** The durable consumer of member change events on the audit stream. */
export const MEMBER_SEATS_CONSUMER = 'billing-member-seats';
/** Change events only (the audit stream's subjects are `audit.<org>.<kind>`). */
export const CHANGE_SUBJECTS = 'audit.*.change';

/**
 * Follows identity's member changes into the seat ledger: each "member" change event sets the
 * member's seats to what it says they hold after it, effective when it was made. Other change
 * events are not about seats. Throwing (the database is down) leaves the event for
 * redelivery; an event the ledger's history contradicts is logged and skipped, since
 * redelivering it would contradict it again.
 */
export function createMemberSeatsHandler(deps: {
  store: Pick<BillingStore, 'applyMemberSeats'>;
  logger: Logger;
}) {
  return async function handle(env: EventEnvelope): Promise<void> {
    if (env.payload.case !== 'change') return;
    const change = env.payload.value;
    if (change.entityType !== 'member' || env.source !== 'identity' || !env.occurredAt) return;
    const userId = change.entityId;
    const orgId = env.orgId;
    try {
      const result = await deps.store.applyMemberSeats(orgId, {
        userId,
        eventId: env.eventId,
        at: timestampDate(env.occurredAt),
        held: seatsOf(change.after),
      });
      if (result.applied && result.changes.length > 0)
        deps.logger.info(
          {
            orgId,
            userId,
            eventId: env.eventId,
            changes: result.changes.map((c) => `${c.product} ${c.change}`),
          },
          'seats follow a member change',
        );
    } catch (err) {
      if (!(err instanceof FailedPreconditionError)) throw err;
      deps.logger.warn(
        { orgId, userId, eventId: env.eventId, reason: err.message },
        'member change contradicts the seat ledger; skipped',
      );
    }
  };
}
