import type { JsonObject } from '@bufbuild/protobuf';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { ApprovalRecord, Person } from './approval-store.js';
import { adminChangeEvent } from './change-event.js';

/** An approval as the change log shows it: the change asked for and where its decision stands. */
export function approvalFacts(r: ApprovalRecord): JsonObject {
  return {
    kind: r.kind,
    status: r.status,
    method: r.method,
    path: r.path,
    body: r.body,
    requested_by: { ...r.requested_by },
    expires_at: r.expires_at,
    ...(r.decided_by ? { decided_by: { ...r.decided_by } } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
    ...(r.result ? { result_status: r.result.status } : {}),
    ...(r.problem ? { problem: r.problem.code } : {}),
  };
}

/**
 * The change event of a step of an approval (entity "approval"): `requested`, `approved` and
 * `failed` are the requester's change (its actor), with the second admin in `approved_by`;
 * `rejected` is the act of whoever rejected it.
 */
export function approvalEvent(
  operation: 'requested' | 'approved' | 'failed' | 'rejected',
  before: ApprovalRecord | undefined,
  after: ApprovalRecord,
): EventEnvelope {
  const actor: Person =
    operation === 'rejected' && after.decided_by ? after.decided_by : after.requested_by;
  const approvedBy =
    operation === 'approved' || operation === 'failed' ? after.decided_by : undefined;
  const who = (p: Person) => ({ subjectId: p.subject_id, email: p.email });
  return adminChangeEvent(after.org_id, who(actor), {
    entityType: 'approval',
    entityId: after.id,
    operation,
    before: before && approvalFacts(before),
    after: approvalFacts(after),
    approvedBy: approvedBy && who(approvedBy),
  });
}
