import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Decision } from '@fortress/proto/common/v1/common_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { requireId } from '@fortress/kit/validate';
import type { AuditFilter } from '../adapters/pg/audit-store.js';

const KINDS = new Set(['decision', 'outcome', 'change', 'notification']);

/** The filter fields Query and Export share. */
interface FilterRequest {
  orgId: string;
  kind: string;
  decision: Decision;
  since?: Timestamp | undefined;
  until?: Timestamp | undefined;
  requestId: string;
}

/** Validates the shared filter fields into a store filter (without limit and cursor). */
export function filterOf(req: FilterRequest): Omit<AuditFilter, 'limit'> {
  const orgId = requireId('org_id', req.orgId, 'org');
  if (req.kind && !KINDS.has(req.kind))
    throw new InvalidArgumentError(
      'kind',
      `kind "${req.kind.slice(0, 32)}" is not one of ${[...KINDS].join(', ')}`,
    );
  if (req.requestId.length > 128)
    throw new InvalidArgumentError('request_id', 'request_id must be at most 128 characters');
  return {
    orgId,
    ...(req.requestId ? { requestId: req.requestId } : {}),
    ...(req.kind ? { kind: req.kind } : {}),
    ...(req.decision === Decision.ALLOW ? { decision: 'allow' as const } : {}),
    ...(req.decision === Decision.DENY ? { decision: 'deny' as const } : {}),
    ...(req.since ? { since: timestampDate(req.since) } : {}),
    ...(req.until ? { until: timestampDate(req.until) } : {}),
  };
}

/** A page token of ours (a decimal position), or "" for the first page. */
export function pageToken(token: string): string {
  if (token && !/^\d{1,19}$/.test(token))
    throw new InvalidArgumentError('page.page_token', 'page.page_token is not valid');
  return token;
}

const ENTITY_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/** The entity filter of QueryChanges: a type, optionally with an id. */
export function entityFilter(entityType: string, entityId: string) {
  if (entityType && !ENTITY_TYPE.test(entityType))
    throw new InvalidArgumentError(
      'entity_type',
      `entity_type "${entityType.slice(0, 64)}" must be lowercase letters, digits and underscores`,
    );
  if (entityId && !entityType)
    throw new InvalidArgumentError('entity_type', 'entity_type is required with entity_id');
  if (entityId.length > 200)
    throw new InvalidArgumentError('entity_id', 'entity_id must be at most 200 characters');
  return {
    ...(entityType ? { entityType } : {}),
    ...(entityId ? { entityId } : {}),
  };
}
