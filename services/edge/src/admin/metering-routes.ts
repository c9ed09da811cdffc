import { create, toJson } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import {
  ModelUsageSchema,
  SummarizeUsageResponseSchema,
  type AuditService,
  type ModelUsage,
  type SummarizeUsageResponse,
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
] as const;

/** Token counts added up field by field. */
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
 * The seeds' `GET /api/v1/metering/usage`: the org's usage and spend over a window (by default
 * the current calendar month in UTC, the month spend caps cover) — PAT Fortress requests,
 * denies, tokens and estimated spend, in total, per model and per PAT key. Every PAT key the
 * org has or had is counted (the policy's limits, revoked ones included, and the vault's
 * Anthropic keys), each summarised by the audit service over the same window.
 *
 * MCP tool calls are not here: the audit service has no RPC that counts an org's records by
 * action, and paging through a month of the audit log per request would not scale.
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
        const keys = await patKeysOf(admin.orgId);
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
          },
        };
      },
    },
  ];
}
