import { timestampDate } from '@bufbuild/protobuf/wkt';
import { ID_PATTERN } from '@fortress/kit/ids';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { isWebhookEventType } from './webhook-events.js';

/** A notification turned into what webhooks deliver. */
export interface NotificationMessage {
  orgId: string;
  eventId: string;
  type: string;
  occurredAt: Date;
  /** `{type, timestamp, data}` as JSON: the exact bytes every attempt signs and sends. */
  body: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True for an event id as events carry them (a lowercase UUID; also webhook-id). */
export function isEventId(id: string): boolean {
  return UUID.test(id);
}

/**
 * The webhook message of an envelope, or why it has none: not a notification, not one of the
 * webhook event types (e.g. archive.behind), or without a usable org or event id.
 */
export function webhookMessageOf(
  env: EventEnvelope,
): { message: NotificationMessage } | { skip: string } {
  if (env.payload.case !== 'notification') return { skip: 'not a notification' };
  const { type, data } = env.payload.value;
  if (!isWebhookEventType(type)) return { skip: 'not a webhook event type' };
  if (!ID_PATTERN.test(env.orgId) || !env.orgId.startsWith('org_')) return { skip: 'no org' };
  const eventId = env.eventId.toLowerCase();
  if (!isEventId(eventId)) return { skip: 'event id is not a uuid' };
  const occurredAt = env.occurredAt ? timestampDate(env.occurredAt) : new Date();
  // Standard Webhooks' payload shape: type, an ISO 8601 timestamp, and the event's data.
  const body = JSON.stringify({ type, timestamp: occurredAt.toISOString(), data: data ?? {} });
  return { message: { orgId: env.orgId, eventId, type, occurredAt, body } };
}
