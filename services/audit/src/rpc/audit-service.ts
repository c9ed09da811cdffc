import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  GetExportSettingsResponseSchema,
  GetRetentionResponseSchema,
  QueryChangesResponseSchema,
  QueryResponseSchema,
  SetExportSettingsResponseSchema,
  SetRetentionResponseSchema,
  VerifyResponseSchema,
  type AuditService,
} from '@fortress/proto/audit/v1/audit_pb';
import type { Logger } from '@fortress/kit/log';
import { pageSize, requireId, requireText } from '@fortress/kit/validate';
import type { AuditFilter, AuditStore } from '../adapters/pg/audit-store.js';
import type { RetentionRepo } from '../adapters/pg/retention-repo.js';
import type { ToolCallRepo } from '../adapters/pg/tool-call-repo.js';
import type { UsageRepo } from '../adapters/pg/usage-repo.js';
import type { ChainVerdict } from '../domain/verify-chain.js';
import { toRecord } from './audit-record.js';
import { createExport } from './export-rpc.js';
import {
  getExportSettings,
  setExportSettings,
  type ExportSettingsDeps,
} from './export-settings-rpc.js';
import { entityFilter, filterOf, pageToken } from './request-filter.js';
import { setRetention, retentionOf } from './retention-rpc.js';
import { createSummarizeToolCalls } from './tool-calls-rpc.js';
import { createSummarizeUsage } from './usage-rpc.js';

/** What the AuditService handlers use. */
export interface AuditRpcDeps {
  store: AuditStore;
  retention: RetentionRepo;
  usage: UsageRepo;
  toolCalls: ToolCallRepo;
  verify: (orgId: string, signal: AbortSignal) => Promise<ChainVerdict>;
  /** The continuous export's setting and backlog. */
  exports: ExportSettingsDeps;
  logger?: Logger;
  /** The clock that places a usage or tool call window left open (the month so far). */
  now?: () => Date;
}

/** Reads one page newest first: `limit` records and the token of the next page. */
async function newestFirst(
  store: AuditStore,
  filter: Omit<AuditFilter, 'limit'>,
  page?: { pageSize: number; pageToken: string },
) {
  const token = pageToken(page?.pageToken ?? '');
  const limit = pageSize(page?.pageSize ?? 0, 100, 1000);
  const rows = await store.query({
    ...filter,
    limit: limit + 1,
    ...(token ? { beforeOrgSeq: token } : {}),
  });
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    records: shown.map(toRecord),
    page: { nextPageToken: rows.length > limit && last ? last.org_seq : '' },
  };
}

/**
 * The AuditService handlers. They answer the edge and the operator only (mTLS peers); who
 * among an org's people may read the log (auditor and admin roles) is the admin plane's
 * decision, through policy, before it calls here.
 */
export function createAuditRpc(deps: AuditRpcDeps): ServiceImpl<typeof AuditService> {
  const now = deps.now ?? (() => new Date());
  return {
    async query(req) {
      return create(QueryResponseSchema, await newestFirst(deps.store, filterOf(req), req.page));
    },

    async queryChanges(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const filter = { orgId, kind: 'change', ...entityFilter(req.entityType, req.entityId) };
      return create(QueryChangesResponseSchema, await newestFirst(deps.store, filter, req.page));
    },

    async verify(req, ctx) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const v = await deps.verify(orgId, ctx.signal);
      return create(VerifyResponseSchema, {
        ok: v.ok,
        recordsChecked: BigInt(v.recordsChecked),
        firstBadSequence: v.failure?.seq ?? 0n,
        problem: v.failure?.problem ?? '',
        reason: v.failure?.reason ?? '',
        firstSequence: v.firstSequence,
        checkpointsChecked: BigInt(v.checkpointsChecked),
      });
    },

    export: createExport(deps.store, deps.logger),

    async setRetention(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const actorId = requireText('actor_id', req.actorId, 200);
      const retention = await setRetention(deps.retention, orgId, req.tier, actorId);
      return create(SetRetentionResponseSchema, { retention });
    },

    async getRetention(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const retention = retentionOf(orgId, await deps.retention.get(orgId));
      return create(GetRetentionResponseSchema, { retention });
    },

    summarizeUsage: createSummarizeUsage(deps.usage, now),

    summarizeToolCalls: createSummarizeToolCalls(deps.toolCalls, now),

    async getExportSettings(req) {
      const settings = await getExportSettings(deps.exports, req.orgId);
      return create(GetExportSettingsResponseSchema, { settings });
    },

    async setExportSettings(req) {
      const settings = await setExportSettings(deps.exports, req);
      return create(SetExportSettingsResponseSchema, { settings });
    },
  };
}
