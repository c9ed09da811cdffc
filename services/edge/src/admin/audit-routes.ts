import { toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  ExportFormat,
  ExportSettingsSchema,
  QueryChangesResponseSchema,
  QueryResponseSchema,
  VerifyResponseSchema,
  type AuditService,
  type ExportSettings,
} from '@fortress/proto/audit/v1/audit_pb';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import type { AdminRoute } from './admin-api.js';
import { queryPage, queryTime } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

const JSON_OUT = { useProtoFieldName: true } as const;

/** Export settings as the admin API shows them (every field, defaults included). */
const exportSettingsJson = (s: ExportSettings | undefined) =>
  s ? toJson(ExportSettingsSchema, s, { ...JSON_OUT, alwaysEmitImplicit: true }) : {};
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
 * The body of `PUT /audit/export-settings`: exactly `{"enabled": true|false}`. Checked by hand
 * rather than as a message, where a missing field would read as false and turn export off.
 */
export function exportSettingsBody(body: unknown): { enabled: boolean } {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ProblemError(problems.badRequest('the body must be a JSON object', undefined));
  const extra = Object.keys(body).find((k) => k !== 'enabled');
  if (extra !== undefined)
    throw new ProblemError(
      problems.badRequest(`field "${extra.slice(0, 64)}" is unknown; send only "enabled"`, extra),
    );
  const { enabled } = body as { enabled?: unknown };
  if (typeof enabled !== 'boolean')
    throw new ProblemError(problems.badRequest('"enabled" must be true or false', 'enabled'));
  return { enabled };
}

/**
 * The audit log of the admin API (the seeds' `GET /audit`): records of the caller's org,
 * newest first, filtered and paginated; a streamed CSV or JSON-lines export; the change log on
 * its own; verification of the hash chain; and the continuous export to the object store
 * (`/audit/export-settings`). Reading is for owner, admin and auditor roles (`admin:audit.read`,
 * `admin:audit.export`; a viewer may not read the audit log); turning the continuous export
 * on or off is `admin:audit.write` (owner, admin), and turning it off can be an approvable
 * critical change (`audit_export.disable`). Every call is itself audited.
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
      path: '/audit/export-settings',
      action: 'admin:audit.read',
      async handle({ admin }) {
        const r = await deps.audit.getExportSettings({ orgId: admin.orgId }, opts);
        return { status: 200, body: { settings: exportSettingsJson(r.settings) } };
      },
    },
    {
      method: 'PUT',
      path: '/audit/export-settings',
      action: 'admin:audit.write',
      check({ body }) {
        exportSettingsBody(body);
      },
      async handle({ admin, body, approvedBy }) {
        const { enabled } = exportSettingsBody(body);
        // The audit service records the change (with before, after and the approver) in the
        // transaction that makes it.
        const r = await deps.audit.setExportSettings(
          {
            orgId: admin.orgId,
            enabled,
            actorId: admin.subjectId,
            approvedBy: approvedBy?.subjectId ?? '',
          },
          opts,
        );
        return { status: 200, body: { settings: exportSettingsJson(r.settings) } };
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
