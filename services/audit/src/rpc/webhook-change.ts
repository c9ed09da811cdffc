import type { JsonObject } from '@bufbuild/protobuf';
import type { Subscription } from '../adapters/pg/webhook-repo.js';
import type { AuditRow } from '../domain/audit-row.js';
import { changeRow } from './change-row.js';

/** What the change log shows of a subscription: never the secret, only its version. */
const shown = (s: Subscription | undefined): JsonObject | undefined =>
  s && {
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    enabled: s.enabled,
    secretVersion: s.secretVersion,
  };

/** The change-log row builder a subscription change passes to the repository. */
export function subscriptionChange(orgId: string, actorId: string, id: string, operation: string) {
  return (before: Subscription | undefined, after: Subscription | undefined): AuditRow =>
    changeRow(orgId, actorId, { type: 'webhook', id, operation }, shown(before), shown(after));
}
