import { create, toJson } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import {
  ModelUsageSchema,
  SummarizeUsageResponseSchema,
  ToolCallCountsSchema,
  type AuditService,
  type ModelUsage,
  type SummarizeToolCallsResponse,
  type SummarizeUsageResponse,
  type ToolCallCounts,
} from '@fortress/proto/audit/v1/audit_pb';
import { UsageSchema, type Usage } from '@fortress/proto/common/v1/common_pb';
import type { PolicyAdminService } from '@fortress/proto/policy/v1/policy_pb';
import type { VaultAdminService } from '@fortress/proto/vault/v1/vault_pb';
import type { AdminRoute } from './admin-api.js';
import { queryTime } from './parse-body.js';
import { anthropicKeys } from './pat-keys.js';
import { problems, ProblemError } from './problem.js';

/** What the metering route needs. */
export interface MeteringRoutesDeps {
  audit: Client<typeof AuditService>;
  policyAdmin: Client<typeof PolicyAdminService>;
  vaultAdmin: Client<typeof VaultAdminService>;
  hopTimeoutMs: number;
  now?: () => Date;
}

/** Zeros are shown: a usage report with a missing count reads as unknown. */
const JSON_OUT = { useProtoFieldName: true, alwaysEmitImplicit: true } as const;
/** Usage summaries asked for at once (one per PAT key). */
const PARALLEL = 8;

const USAGE_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheCreationInputTokens',
  'cacheReadInputTokens',
  'cacheCreation5mInputTokens',
  'cacheCreation1hInputTokens',
  'webSearchRequests',
] as const;

/** Usage counts added up field by field. */
function addUsage(a: Usage | undefined, b: Usage | undefined): Usage {
  const out = create(UsageSchema);
  for (const f of USAGE_FIELDS) out[f] = (a?.[f] ?? 0n) + (b?.[f] ?? 0n);
  return out;
}

/**
 * Several PAT keys' summaries of one window as one: totals, denies, and the models merged
 * (highest spend first, then by model id, as the audit service orders one key's).
 */
export function sumUsage(parts: SummarizeUsageResponse[]): SummarizeUsageResponse {
  const models = new Map<string, ModelUsage>();
  const total = create(SummarizeUsageResponseSchema, { usage: create(UsageSchema) });
  for (const p of parts) {
    total.requests += p.requests;
    total.denied += p.denied;
    total.spendMicrousd += p.spendMicrousd;
    total.usage = addUsage(total.usage, p.usage);
    for (const m of p.models) {
      const seen = models.get(m.model) ?? create(ModelUsageSchema, { model: m.model });
      seen.requests += m.requests;
      seen.spendMicrousd += m.spendMicrousd;
      seen.usage = addUsage(seen.usage, m.usage);
      models.set(m.model, seen);
    }
  }
  total.models = [...models.values()].sort(bySpend((m) => [m.spendMicrousd, m.model]));
  return total;
}

/** An order by spend, highest first, then by name. */
function bySpend<T>(key: (t: T) => [bigint, string]) {
  return (a: T, b: T) => {
    const [sa, na] = key(a);
    const [sb, nb] = key(b);
    return sa === sb ? na.localeCompare(nb) : sa > sb ? -1 : 1;
  };
}

/** One set of tool call counts as JSON fields (uint64s as strings, as protobuf JSON has them). */
const countsJson = (c: ToolCallCounts | undefined) =>
  toJson(ToolCallCountsSchema, c ?? create(ToolCallCountsSchema), JSON_OUT) as Record<
    string,
    string
  >;

/**
 * The org's tool calls as the report shows them: the counts flat beside the connector id or
 * tool name they belong to, in the audit service's order (most calls first, then by name).
 */
export function toolCallsJson(s: SummarizeToolCallsResponse) {
  return {
    ...countsJson(s.total),
    connectors: s.connectors.map((c) => ({
      connector_id: c.connectorId,
      ...countsJson(c.counts),
    })),
    tools: s.tools.map((t) => ({
      tool: t.tool,
      connector_id: t.connectorId,
      ...countsJson(t.counts),
    })),
  };
}

/** `fn` over `items`, at most `limit` at a time, results in order. */
async function mapLimited<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The seeds' `GET /api/v1/metering/usage`: the org's usage over a window (by default the
 * current calendar month in UTC, the month spend caps cover), both products side by side.
 *
 * - `pat`: PAT Fortress requests, denies, tokens and estimated spend, in total, per model and
 *   per PAT key. Every PAT key the org has or had is counted (the policy's limits, revoked
 *   ones included, and the vault's Anthropic keys), each summarised by the audit service.
 * - `mcp`: MCP tool calls, allowed and denied, and how the allowed ones ended, in total, per
 *   connector and per tool — one aggregate over the org's audit log (SummarizeToolCalls),
 *   which counts each call once, by its decision.
 *
 * Every summary is asked for the same window, so the sections describe the same period.
 */
export function createMeteringRoutes(deps: MeteringRoutesDeps): AdminRoute[] {
  const { audit, policyAdmin, vaultAdmin } = deps;
  const now = deps.now ?? (() => new Date());
  const opts = { timeoutMs: deps.hopTimeoutMs };

  /** The org's PAT keys and their labels: limits (kept after revocation) and vault keys. */
  const patKeysOf = async (orgId: string) => {
    // An Anthropic key stored under another id is no PAT key: nothing is metered under it.
    const keys = new Map(
      (await anthropicKeys(vaultAdmin, orgId, opts))
        .filter((c) => c.id.startsWith('pat_'))
        .map((c) => [c.id, c.label]),
    );
    for (const l of (await policyAdmin.getPolicy({ orgId }, opts)).model?.patLimits ?? [])
      keys.set(l.patKeyId, l.label);
    return [...keys].sort(([a], [b]) => a.localeCompare(b));
  };

  return [
    {
      method: 'GET',
      path: '/metering/usage',
      action: 'admin:billing.read',
      async handle({ admin, query }) {
        const at = now();
        const since =
          queryTime(query, 'since') ??
          timestampFromDate(new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1)));
        const until = queryTime(query, 'until') ?? timestampFromDate(at);
        if (timestampDate(since) >= timestampDate(until))
          throw new ProblemError(problems.badRequest('since must be before until', 'since'));
        const [toolCalls, keys] = await Promise.all([
          audit.summarizeToolCalls({ orgId: admin.orgId, since, until }, opts),
          patKeysOf(admin.orgId),
        ]);
        // One window for every key, so the parts add up.
        const parts = await mapLimited(keys, PARALLEL, ([patKeyId]) =>
          audit.summarizeUsage({ orgId: admin.orgId, patKeyId, since, until }, opts),
        );
        // The total carries no window of its own: the window is said once, at the top.
        const pat = toJson(SummarizeUsageResponseSchema, sumUsage(parts), JSON_OUT) as object;
        const perKey = keys
          .map(([patKeyId, label], i) => ({ patKeyId, label, u: parts[i] }))
          .sort(bySpend((k) => [k.u?.spendMicrousd ?? 0n, k.patKeyId]))
          .map(({ patKeyId, label, u }) => ({
            pat_key_id: patKeyId,
            label,
            requests: String(u?.requests ?? 0n),
            denied: String(u?.denied ?? 0n),
            spend_microusd: String(u?.spendMicrousd ?? 0n),
          }));
        return {
          status: 200,
          body: {
            since: timestampDate(since).toISOString(),
            until: timestampDate(until).toISOString(),
            pat: { ...pat, keys: perKey },
            mcp: toolCallsJson(toolCalls),
          },
        };
      },
    },
  ];
}
