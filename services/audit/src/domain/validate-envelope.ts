import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ORG = /^org_[A-Za-z0-9]{1,64}$/;
const KINDS = new Set(['decision', 'outcome', 'change', 'notification']);
/** 9999-12-31T23:59:59Z: the last second PostgreSQL and every export format agree on. */
export const MAX_SECONDS = 253_402_300_799n;

/** Why an envelope cannot become an audit row, or undefined when it can. */
export function envelopeProblem(envelope: EventEnvelope): string | undefined {
  if (!UUID.test(envelope.eventId)) return 'event_id is not a uuid';
  if (!ORG.test(envelope.orgId)) return 'org_id is missing or malformed';
  if (!envelope.payload.case || !KINDS.has(envelope.payload.case)) return 'no payload';
  const at = envelope.occurredAt;
  if (at && (at.seconds < 0n || at.seconds > MAX_SECONDS)) return 'occurred_at is out of range';
  return undefined;
}
