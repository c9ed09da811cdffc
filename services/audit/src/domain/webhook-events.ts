import { typeFilter } from './type-filter.js';

/** The webhook event types (feature S9); other notifications are never delivered. */
export const WEBHOOK_EVENT_TYPES = [
  'request.denied',
  'connector.killed',
  'connector.error',
  'user.overage',
  'credential.expiring',
  'anomaly.detected',
  'pat.spend_cap_reached',
  'pat.model_blocked',
  'device.noncompliant',
] as const;

/** One of the webhook event types. */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

const KNOWN = new Set<string>(WEBHOOK_EVENT_TYPES);

/** True when `type` is a webhook event type. */
export function isWebhookEventType(type: string): type is WebhookEventType {
  return KNOWN.has(type);
}

/** Validates an event-type filter: known types, each once, sorted. Empty means every type. */
export function eventTypeFilter(field: string, types: readonly string[]): WebhookEventType[] {
  return typeFilter(field, types, WEBHOOK_EVENT_TYPES);
}

/** True when a subscription with `filter` wants events of `type` (empty filter: all). */
export function filterMatches(filter: readonly string[], type: string): boolean {
  return isWebhookEventType(type) && (filter.length === 0 || filter.includes(type));
}
