import type { JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { envelope } from '@fortress/kit/event-bus';
import type { Subscription } from '../adapters/pg/webhook-repo.js';
import { toAuditRow, type AuditRow } from '../domain/audit-row.js';

/** What the change log shows of a subscription: never the secret, only its version. */
const shown = (s: Subscription | undefined): JsonObject | undefined =>
  s && {
    url: s.url,
    eventTypes: s.eventTypes,
    description: s.description,
    enabled: s.enabled,
    secretVersion: s.secretVersion,
  };

/** The change-log row of an admin change to a webhook entity, by `actorId`. */
export function changeRow(
  orgId: string,
  actorId: string,
  entity: { type: 'webhook' | 'webhook_delivery'; id: string; operation: string },
  before?: JsonObject,
  after?: JsonObject,
): AuditRow {
  return toAuditRow(
    envelope({
      orgId,
      occurredAt: timestampNow(),
      source: 'audit',
      payload: {
        case: 'change',
        value: {
          actor: { kind: PrincipalKind.ADMIN, subjectId: actorId },
          entityType: entity.type,
          entityId: entity.id,
          operation: entity.operation,
          ...(before ? { before } : {}),
          ...(after ? { after } : {}),
        },
      },
    }),
  );
}

/** The change-log row builder a subscription change passes to the repository. */
export function subscriptionChange(orgId: string, actorId: string, id: string, operation: string) {
  return (before: Subscription | undefined, after: Subscription | undefined): AuditRow =>
    changeRow(orgId, actorId, { type: 'webhook', id, operation }, shown(before), shown(after));
}
