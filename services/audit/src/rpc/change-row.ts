import type { JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { envelope } from '@fortress/kit/event-bus';
import { toAuditRow, type AuditRow } from '../domain/audit-row.js';

/**
 * The change-log row of an admin change that audit itself makes (retention, webhooks), by
 * `actorId` (and approved by `approvedBy`, when it needed a second admin): appended to the
 * org's chain in the transaction of the change.
 */
export function changeRow(
  orgId: string,
  actorId: string,
  entity: { type: string; id: string; operation: string },
  before?: JsonObject,
  after?: JsonObject,
  approvedBy?: string,
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
          ...(approvedBy ? { approvedBy } : {}),
        },
      },
    }),
  );
}
