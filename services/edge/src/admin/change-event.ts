import type { JsonObject } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { envelope } from '@fortress/kit/event-bus';

/** An admin as a change event names them. */
export interface ChangeActor {
  subjectId: string;
  email: string;
}

/** One admin change made at the edge, with its before and after (never a secret). */
export interface EdgeChange {
  entityType: string;
  entityId: string;
  operation: string;
  before?: JsonObject | undefined;
  after?: JsonObject | undefined;
  /** The second admin who approved it, when it needed approval. */
  approvedBy?: ChangeActor | undefined;
}

/** The change event (change log, S8) of an admin change made by the edge itself. */
export function adminChangeEvent(orgId: string, actor: ChangeActor, c: EdgeChange): EventEnvelope {
  return envelope({
    orgId,
    occurredAt: timestampNow(),
    source: 'edge',
    payload: {
      case: 'change',
      value: {
        actor: { kind: PrincipalKind.ADMIN, subjectId: actor.subjectId, email: actor.email },
        entityType: c.entityType,
        entityId: c.entityId,
        operation: c.operation,
        ...(c.before ? { before: c.before } : {}),
        ...(c.after ? { after: c.after } : {}),
        ...(c.approvedBy ? { approvedBy: c.approvedBy.subjectId } : {}),
      },
    },
  });
}
