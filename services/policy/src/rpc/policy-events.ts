import { timestampNow } from '@bufbuild/protobuf/wkt';
import type { JsonObject } from '@bufbuild/protobuf';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { envelope } from '@fortress/kit/event-bus';

/** A change event: who changed which entity, with its before and after (no secrets in a policy). */
export function changeEnvelope(
  orgId: string,
  actorId: string,
  entity: { type: string; id: string; operation: string; before: unknown; after: unknown },
): EventEnvelope {
  return envelope({
    orgId,
    occurredAt: timestampNow(),
    source: 'policy',
    payload: {
      case: 'change',
      value: {
        actor: { kind: PrincipalKind.ADMIN, subjectId: actorId },
        entityType: entity.type,
        entityId: entity.id,
        operation: entity.operation,
        ...(entity.before === undefined
          ? {}
          : { before: JSON.parse(JSON.stringify(entity.before)) as JsonObject }),
        ...(entity.after === undefined
          ? {}
          : { after: JSON.parse(JSON.stringify(entity.after)) as JsonObject }),
      },
    },
  });
}

/** A webhook notification (user.overage, pat.model_blocked, pat.spend_cap_reached, …). */
export function notificationEnvelope(orgId: string, type: string, data: JsonObject): EventEnvelope {
  return envelope({
    orgId,
    occurredAt: timestampNow(),
    source: 'policy',
    payload: { case: 'notification', value: { type, data } },
  });
}
