import { toJsonString } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { AuditRecordSchema, type AuditRecord } from '@fortress/proto/audit/v1/audit_pb';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';

/** The CSV columns of an export, in order. */
export const CSV_COLUMNS = [
  'sequence',
  'event_id',
  'occurred_at',
  'recorded_at',
  'kind',
  'product',
  'decision',
  'action',
  'resource',
  'actor_kind',
  'actor_subject_id',
  'actor_user_id',
  'actor_email',
  'actor_api_key_id',
  'actor_device_id',
  'reasons',
  'latency_us',
  'status_code',
  'request_id',
  'trace_id',
] as const;

/**
 * One CSV cell (RFC 4180). Text a spreadsheet would evaluate as a formula (starting with
 * = + - @, tab or carriage return) is prefixed with an apostrophe: an audit export must not
 * become a way to run something on an auditor's machine.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/** The lowercased short name of an enum value ("pat", "allow", "org_key"); "" when unspecified. */
const enumName = (names: Record<number, string>, value: number) =>
  value === 0 ? '' : (names[value] ?? String(value)).toLowerCase();

const iso = (t: AuditRecord['occurredAt']) => (t ? timestampDate(t).toISOString() : '');

/** The header line of a CSV export. */
export const csvHeader = (): string => `${CSV_COLUMNS.join(',')}\r\n`;

/** One record as a CSV line (CRLF-terminated). */
export function csvLine(r: AuditRecord): string {
  const a = r.actor;
  const cells: Record<(typeof CSV_COLUMNS)[number], string> = {
    sequence: r.sequence.toString(),
    event_id: r.eventId,
    occurred_at: iso(r.occurredAt),
    recorded_at: iso(r.recordedAt),
    kind: r.kind,
    product: enumName(Product, r.product),
    decision: enumName(Decision, r.decision),
    action: r.action,
    resource: r.resource,
    actor_kind: a ? enumName(PrincipalKind, a.kind) : '',
    actor_subject_id: a?.subjectId ?? '',
    actor_user_id: a?.userId ?? '',
    actor_email: a?.email ?? '',
    actor_api_key_id: a?.apiKeyId ?? '',
    actor_device_id: a?.deviceId ?? '',
    reasons: r.reasons.map((x) => (x.ruleId ? `${x.code} (${x.ruleId})` : x.code)).join('; '),
    latency_us: r.latencyUs ? String(r.latencyUs) : '',
    status_code: r.statusCode ? String(r.statusCode) : '',
    request_id: r.requestId,
    trace_id: r.traceId,
  };
  return `${CSV_COLUMNS.map((c) => csvCell(cells[c])).join(',')}\r\n`;
}

/** One record as a JSON line (protobuf JSON, one object per line). */
export const jsonLine = (r: AuditRecord): string => `${toJsonString(AuditRecordSchema, r)}\n`;
