import { create, fromJson } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  AuditRecordSchema,
  QueryResponseSchema,
  type AuditService,
} from '@fortress/proto/audit/v1/audit_pb';
import { Decision, Product } from '@fortress/proto/common/v1/common_pb';
import { ActorSchema, EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { pageSize, requireId } from '@fortress/kit/validate';
import type { AuditStore, StoredAuditRow } from '../adapters/pg/audit-store.js';

const KINDS = new Set(['decision', 'outcome', 'change', 'notification']);

const toRecord = (r: StoredAuditRow) =>
  create(AuditRecordSchema, {
    eventId: r.event_id,
    orgId: r.org_id,
    sequence: BigInt(r.seq),
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

/** The AuditService handlers (queries; Verify arrives with the hash chain). */
export function createAuditRpc(deps: {
  store: AuditStore;
}): Partial<ServiceImpl<typeof AuditService>> {
  return {
    async query(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      if (req.kind && !KINDS.has(req.kind))
        throw new InvalidArgumentError(
          'kind',
          `kind "${req.kind}" is not one of ${[...KINDS].join(', ')}`,
        );
      const token = req.page?.pageToken ?? '';
      if (token && !/^\d{1,19}$/.test(token))
        throw new InvalidArgumentError('page.page_token', 'page.page_token is not valid');
      const limit = pageSize(req.page?.pageSize ?? 0, 100, 1000);
      const rows = await deps.store.query({
        orgId,
        limit: limit + 1,
        ...(req.requestId ? { requestId: req.requestId } : {}),
        ...(req.kind ? { kind: req.kind } : {}),
        ...(req.decision === Decision.ALLOW ? { decision: 'allow' as const } : {}),
        ...(req.decision === Decision.DENY ? { decision: 'deny' as const } : {}),
        ...(req.since ? { since: timestampDate(req.since) } : {}),
        ...(req.until ? { until: timestampDate(req.until) } : {}),
        ...(token ? { beforeSeq: token } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return create(QueryResponseSchema, {
        records: page.map(toRecord),
        page: { nextPageToken: rows.length > limit && last ? last.seq : '' },
      });
    },
  };
}
