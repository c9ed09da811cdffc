import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  DeliveryAttemptSchema,
  DeliveryState,
  WebhookDeliverySchema,
  WebhookSchema,
  type Webhook,
  type WebhookDelivery,
} from '@fortress/proto/audit/v1/webhook_pb';
import type { DeliveryState as StateName, LoggedDelivery } from '../adapters/pg/delivery-repo.js';
import type { Subscription } from '../adapters/pg/webhook-repo.js';

const STATES: Record<StateName, DeliveryState> = {
  pending: DeliveryState.PENDING,
  delivered: DeliveryState.DELIVERED,
  failed: DeliveryState.FAILED,
};

/** The state name of an API state; undefined for unspecified. */
export function stateName(state: DeliveryState): StateName | undefined {
  return (Object.keys(STATES) as StateName[]).find((k) => STATES[k] === state);
}

/** The API view of a subscription: metadata only (the type has no secret field to fill). */
export function toWebhook(s: Subscription): Webhook {
  return create(WebhookSchema, {
    webhookId: s.id,
    orgId: s.orgId,
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    enabled: s.enabled,
    createdAt: timestampFromDate(s.createdAt),
    updatedAt: timestampFromDate(s.updatedAt),
    secretSetAt: timestampFromDate(s.secretSetAt),
  });
}

/** The API view of a delivery with its attempts. */
export function toDelivery(d: LoggedDelivery): WebhookDelivery {
  return create(WebhookDeliverySchema, {
    webhookId: d.subscriptionId,
    eventId: d.eventId,
    eventType: d.type,
    state: STATES[d.state],
    createdAt: timestampFromDate(d.createdAt),
    updatedAt: timestampFromDate(d.updatedAt),
    replays: d.replays,
    attempts: d.attempts.map((a) =>
      create(DeliveryAttemptSchema, {
        attempt: a.attempt,
        attemptedAt: timestampFromDate(a.attemptedAt),
        statusCode: a.statusCode ?? 0,
        error: a.error ?? '',
        latencyMs: a.latencyMs,
        state: STATES[a.state],
      }),
    ),
  });
}
