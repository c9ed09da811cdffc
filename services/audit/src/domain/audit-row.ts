import { toJson } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Decision, Product } from '@fortress/proto/common/v1/common_pb';
import {
  ActorSchema,
  EventEnvelopeSchema,
  type Actor,
  type EventEnvelope,
} from '@fortress/proto/events/v1/events_pb';

/** One audit row as written. */
export interface AuditRow {
  eventId: string;
  orgId: string;
  kind: string;
  occurredAt: Date;
  source: string;
  product: string | null;
  actor: unknown;
  action: string;
  resource: string;
  decision: 'allow' | 'deny' | null;
  reasons: unknown;
  latencyUs: number | null;
  statusCode: number | null;
  requestId: string;
  traceId: string;
  event: unknown;
}

const actorJson = (a: Actor | undefined) => (a ? toJson(ActorSchema, a) : {});
const productName = (p: Product) => (p === Product.UNSPECIFIED ? null : Product[p].toLowerCase());
const decisionName = (d: Decision) =>
  d === Decision.ALLOW ? 'allow' : d === Decision.DENY ? 'deny' : null;

/**
 * Flattens an event envelope into the columns of the audit log. The event id is lowercased,
 * as PostgreSQL's uuid type prints it, so the hashed row is the stored row. A change is
 * recorded with action "<entity_type>.<operation>" and resource "<entity_type>:<entity_id>",
 * which is what the change log filters on.
 */
export function toAuditRow(envelope: EventEnvelope): AuditRow {
  const base = {
    eventId: envelope.eventId.toLowerCase(),
    orgId: envelope.orgId,
    kind: envelope.payload.case ?? 'unknown',
    occurredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(),
    source: envelope.source,
    traceId: envelope.traceId,
    event: toJson(EventEnvelopeSchema, envelope),
  };
  const p = envelope.payload;
  switch (p.case) {
    case 'decision':
      return {
        ...base,
        product: productName(p.value.product),
        actor: actorJson(p.value.actor),
        action: p.value.action,
        resource: p.value.resource,
        decision: decisionName(p.value.decision),
        reasons: p.value.reasons.map((r) => ({
          code: r.code,
          message: r.message,
          ruleId: r.ruleId,
        })),
        latencyUs: p.value.decideUs,
        statusCode: null,
        requestId: p.value.requestId,
      };
    case 'outcome':
      return {
        ...base,
        product: productName(p.value.product),
        actor: actorJson(p.value.actor),
        action: p.value.action,
        resource: p.value.resource,
        decision: null,
        reasons: [],
        latencyUs: p.value.latencyUs,
        statusCode: p.value.statusCode,
        requestId: p.value.requestId,
      };
    case 'change':
      return {
        ...base,
        product: null,
        actor: actorJson(p.value.actor),
        action: `${p.value.entityType}.${p.value.operation}`,
        resource: `${p.value.entityType}:${p.value.entityId}`,
        decision: null,
        reasons: [],
        latencyUs: null,
        statusCode: null,
        requestId: '',
      };
    default:
      return {
        ...base,
        product: null,
        actor: {},
        action: '',
        resource: '',
        decision: null,
        reasons: [],
        latencyUs: null,
        statusCode: null,
        requestId: '',
      };
  }
}
