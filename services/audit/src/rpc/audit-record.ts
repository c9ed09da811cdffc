import { create, fromJson } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AuditRecordSchema, type AuditRecord } from '@fortress/proto/audit/v1/audit_pb';
import { Decision, Product } from '@fortress/proto/common/v1/common_pb';
import { ActorSchema, EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import type { StoredAuditRow } from '../adapters/pg/audit-store.js';

/** A stored row as the AuditRecord the API returns; `sequence` is its place in the org's chain. */
export function toRecord(r: StoredAuditRow): AuditRecord {
  return create(AuditRecordSchema, {
    eventId: r.event_id,
    orgId: r.org_id,
    sequence: BigInt(r.org_seq),
    occurredAt: timestampFromDate(r.occurred_at),
    recordedAt: timestampFromDate(r.recorded_at),
    kind: r.kind,
    product: r.product
      ? (Product[r.product.toUpperCase() as keyof typeof Product] ?? Product.UNSPECIFIED)
      : Product.UNSPECIFIED,
    actor: fromJson(ActorSchema, r.actor as never, { ignoreUnknownFields: true }),
    action: r.action,
    resource: r.resource,
    decision:
      r.decision === 'allow'
        ? Decision.ALLOW
        : r.decision === 'deny'
          ? Decision.DENY
          : Decision.UNSPECIFIED,
    reasons: r.reasons,
    latencyUs: Math.min(Number(r.latency_us ?? 0), 0xffffffff),
    statusCode: r.status_code ?? 0,
    requestId: r.request_id,
    traceId: r.trace_id,
    event: fromJson(EventEnvelopeSchema, r.event as never, { ignoreUnknownFields: true }),
  });
}
