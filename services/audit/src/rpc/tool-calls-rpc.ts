import { create } from '@bufbuild/protobuf';
import {
  SummarizeToolCallsResponseSchema,
  type SummarizeToolCallsRequest,
  type SummarizeToolCallsResponse,
} from '@fortress/proto/audit/v1/audit_pb';
import { requireId } from '@fortress/kit/validate';
import type { ToolCallRepo } from '../adapters/pg/tool-call-repo.js';
import { timestampOf, usageWindow } from './usage-rpc.js';

/**
 * The SummarizeToolCalls handler: an org's MCP tool calls over a window, in total, per
 * connector and per tool. The window follows SummarizeUsage's rules, so a usage report can
 * show PAT and MCP usage of the same window side by side.
 */
export function createSummarizeToolCalls(repo: ToolCallRepo, now: () => Date) {
  return async function summarizeToolCalls(
    req: SummarizeToolCallsRequest,
  ): Promise<SummarizeToolCallsResponse> {
    const orgId = requireId('org_id', req.orgId, 'org');
    const window = usageWindow(req, now());
    const summary = await repo.summarize({ orgId, ...window });
    return create(SummarizeToolCallsResponseSchema, {
      since: timestampOf(window.sinceUs),
      until: timestampOf(window.untilUs),
      ...summary,
    });
  };
}
