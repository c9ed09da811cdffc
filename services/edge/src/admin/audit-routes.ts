import { toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  ExportFormat,
  QueryChangesResponseSchema,
  QueryResponseSchema,
  VerifyResponseSchema,
  type AuditService,
} from '@fortress/proto/audit/v1/audit_pb';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import type { AdminRoute } from './admin-api.js';
import { queryPage, queryTime } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

const JSON_OUT = { useProtoFieldName: true } as const;
const KINDS = new Set(['', 'decision', 'outcome', 'change', 'notification']);

/** The filters of `/audit` and `/audit/export` from the query string, checked. */
function filters(q: URLSearchParams) {
  const kind = q.get('kind') ?? '';
  if (!KINDS.has(kind))
    throw new ProblemError(
      problems.badRequest('kind must be decision, outcome, change or notification', 'kind'),
    );
  const decisionName = q.get('decision') ?? '';
  if (decisionName && decisionName !== 'allow' && decisionName !== 'deny')
    throw new ProblemError(problems.badRequest('decision must be allow or deny', 'decision'));
  const since = queryTime(q, 'since');
  const until = queryTime(q, 'until');
  return {
    kind,
    decision:
      decisionName === 'allow'
        ? Decision.ALLOW
        : decisionName === 'deny'
          ? Decision.DENY
          : Decision.UNSPECIFIED,
    requestId: q.get('request_id') ?? '',
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
  };
}

/**
 * The audit log of the admin API (the seeds' `GET /audit`): records of the caller's org,
 * newest first, filtered and paginated; a streamed CSV or JSON-lines export; the change log on
 * its own; and verification of the hash chain. Owner, admin and auditor roles (`admin:audit.*`;
 * a viewer may not read the audit log). Every call is itself audited.
 */
export function createAuditRoutes(deps: {
  audit: Client<typeof AuditService>;
  hopTimeoutMs: number;
}): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/audit',
      action: 'admin:audit.read',
      async handle({ admin, query }) {
        const r = await deps.audit.query(
          { orgId: admin.orgId, ...filters(query), page: queryPage(query) },
          opts,
        );
        return { status: 200, body: toJson(QueryResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/audit/export',
      action: 'admin:audit.export',
      handle({ admin, query }) {
        const format = query.get('format') ?? 'csv';
        if (format !== 'csv' && format !== 'jsonl')
          throw new ProblemError(problems.badRequest('format must be csv or jsonl', 'format'));
        const stream = deps.audit.export({
          orgId: admin.orgId,
          format: format === 'csv' ? ExportFormat.CSV : ExportFormat.JSON_LINES,
          ...filters(query),
        });
        async function* bytes() {
          for await (const chunk of stream) yield chunk.data;
        }
        return Promise.resolve({
          status: 200,
          stream: {
            contentType: format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson',
            filename: `audit-${admin.orgId}.${format === 'csv' ? 'csv' : 'jsonl'}`,
            chunks: bytes(),
          },
        });
      },
    },
    {
      method: 'GET',
      path: '/audit/verify',
      action: 'admin:audit.read',
      async handle({ admin }) {
        const r = await deps.audit.verify({ orgId: admin.orgId }, { timeoutMs: 60_000 });
        return { status: 200, body: toJson(VerifyResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/changes',
      action: 'admin:audit.read',
      async handle({ admin, query }) {
        const r = await deps.audit.queryChanges(
          {
            orgId: admin.orgId,
            entityType: query.get('entity_type') ?? '',
            entityId: query.get('entity_id') ?? '',
            page: queryPage(query),
          },
          opts,
        );
        return { status: 200, body: toJson(QueryChangesResponseSchema, r, JSON_OUT) };
      },
    },
  ];
}
