import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { trace } from '@opentelemetry/api';
import {
  Decision,
  type Hop,
  type Principal,
  type Product,
  type Reason,
} from '@fortress/proto/common/v1/common_pb';
import {
  ActorSchema,
  OutcomeEventSchema,
  type Actor,
  type EventEnvelope,
} from '@fortress/proto/events/v1/events_pb';
import { envelope } from '@fortress/kit/event-bus';
import type { MessageInitShape } from '@bufbuild/protobuf';

/** The actor of an audit record: who, never with what secret. */
export function actorOf(p: Principal): Actor {
  return create(ActorSchema, {
    kind: p.kind,
    subjectId: p.subjectId,
    userId: p.userId,
    email: p.email,
    apiKeyId: p.apiKeyId,
    deviceId: p.deviceId,
    roles: p.roles,
    patKeyId: p.patKeyId,
  });
}

/** What a decision event records. */
export interface DecisionRecord {
  orgId: string;
  requestId: string;
  product: Product;
  principal: Principal | undefined;
  action: string;
  resource: string;
  allow: boolean;
  decidedBy: Hop;
  reasons: Reason[];
  policyVersion: string;
  clientIp: string;
  identityUs: number;
  postureUs: number;
  policyUs: number;
  decideUs: number;
}

const traceId = () => trace.getActiveSpan()?.spanContext().traceId ?? '';

/** The envelope of a decision event (published and acked before anything else happens). */
export function decisionEnvelope(r: DecisionRecord): EventEnvelope {
  return envelope({
    orgId: r.orgId,
    occurredAt: timestampNow(),
    source: 'edge',
    traceId: traceId(),
    payload: {
      case: 'decision',
      value: {
        requestId: r.requestId,
        product: r.product,
        ...(r.principal ? { actor: actorOf(r.principal) } : {}),
        action: r.action,
        resource: r.resource,
        decision: r.allow ? Decision.ALLOW : Decision.DENY,
        decidedBy: r.decidedBy,
        reasons: r.reasons,
        policyVersion: r.policyVersion,
        clientIp: r.clientIp,
        identityUs: r.identityUs,
        postureUs: r.postureUs,
        policyUs: r.policyUs,
        decideUs: r.decideUs,
      },
    },
  });
}

/** The envelope of an outcome event (published when an allowed request completes). */
export function outcomeEnvelope(
  orgId: string,
  outcome: MessageInitShape<typeof OutcomeEventSchema>,
): EventEnvelope {
  return envelope({
    orgId,
    occurredAt: timestampNow(),
    source: 'edge',
    traceId: traceId(),
    payload: { case: 'outcome', value: create(OutcomeEventSchema, outcome) },
  });
}
