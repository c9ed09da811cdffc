import { randomUUID } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { trace } from '@opentelemetry/api';
import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { CredentialMeta, KeyConfigRow } from './records.js';

/** The actor of a change made by the vault itself (scheduled rotation, re-wrap). */
export const SYSTEM_ACTOR = 'system:vault';

/** Something safe to put in an event: never a secret, never key material. */
type Safe = Record<string, string | number | boolean | null>;

const traceId = () => trace.getActiveSpan()?.spanContext().traceId ?? '';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function base(orgId: string) {
  return {
    eventId: randomUUID(),
    orgId,
    occurredAt: timestampNow(),
    source: 'vault',
    traceId: traceId(),
  };
}

/** A change event (audit change log): who changed what, before and after, metadata only. */
export function changeEvent(c: {
  orgId: string;
  actorId: string;
  entityType: string;
  entityId: string;
  operation: 'create' | 'update' | 'delete' | 'rotate';
  before?: Safe;
  after?: Safe;
}): EventEnvelope {
  return create(EventEnvelopeSchema, {
    ...base(c.orgId),
    payload: {
      case: 'change',
      value: {
        actor: {
          kind: c.actorId === SYSTEM_ACTOR ? PrincipalKind.UNSPECIFIED : PrincipalKind.ADMIN,
          subjectId: c.actorId,
        },
        entityType: c.entityType,
        entityId: c.entityId,
        operation: c.operation,
        ...(c.before ? { before: c.before } : {}),
        ...(c.after ? { after: c.after } : {}),
      },
    },
  });
}

/** A webhook notification (e.g. credential.expiring). */
export function notificationEvent(orgId: string, type: string, data: Safe): EventEnvelope {
  return create(EventEnvelopeSchema, {
    ...base(orgId),
    payload: {
      case: 'notification',
      value: { type, data },
    },
  });
}

/** The shown fields of a credential version, for change events. */
export function credentialFacts(m: CredentialMeta): Safe {
  return {
    version: m.version,
    kind: m.kind,
    label: m.label,
    last_four: m.last_four,
    status: m.status,
    key_epoch: m.key_epoch,
    expires_at: iso(m.expires_at),
    overlap_until: iso(m.overlap_until),
  };
}

/** The fields of a key configuration, for change events (ids and names, no secrets). */
export function configFacts(c: KeyConfigRow): Safe {
  return {
    tier: c.tier,
    kms_key_id: c.kms_key_id,
    kms_endpoint: c.kms_endpoint,
    grant_id: c.grant_id,
    rotation_days: c.rotation_days,
  };
}
