import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  isoMicros,
  PAT_MESSAGES_ACTION,
  USAGE_FIELDS,
  type ModelUsage,
  type PatUsage,
  type UsageCounts,
  type UsageWindow,
} from '../../domain/pat-usage.js';

/** Whose usage, over which window. */
export interface UsageQuery extends UsageWindow {
  orgId: string;
  patKeyId: string;
}

/** The rows both statements read: one key of one org, in [since, until). */
const KEY_IN_WINDOW = `org_id = $1 AND pat_key_id = $2
    AND occurred_at >= $3::timestamptz AND occurred_at < $4::timestamptz`;

/**
 * A PAT key's completed Messages API requests per model, highest spend first. Reads the rows
 * of the events_pat_usage index (migration 003, whose predicate this repeats as literals so
 * the planner can use it) and, of each, the outcome's usage and spend: uint64 values, which
 * protobuf JSON writes as strings, read as numeric so the sums are exact. A value left out of
 * the JSON is a zero.
 */
export const USAGE_BY_MODEL_SQL = `SELECT
    (CASE WHEN starts_with(e.resource, 'model:') THEN substr(e.resource, 7) ELSE e.resource END)
      COLLATE "C" AS model,
    count(*) AS requests,
    coalesce(sum(o."spendMicrousd"), 0) AS "spendMicrousd",
    ${USAGE_FIELDS.map((f) => `coalesce(sum(u."${f}"), 0) AS "${f}"`).join(',\n    ')}
  FROM events e
  CROSS JOIN LATERAL json_to_record(e.event -> 'outcome') AS o("spendMicrousd" numeric, usage json)
  CROSS JOIN LATERAL json_to_record(coalesce(o.usage, '{}')) AS u(${USAGE_FIELDS.map((f) => `"${f}" numeric`).join(', ')})
  WHERE ${KEY_IN_WINDOW}
    AND e.kind = 'outcome' AND e.action = '${PAT_MESSAGES_ACTION}'
  GROUP BY 1
  ORDER BY "spendMicrousd" DESC, model`;

/** The key's requests denied before going upstream, from the events_pat_denies index. */
export const DENIED_SQL = `SELECT count(*) AS denied FROM events
  WHERE ${KEY_IN_WINDOW}
    AND kind = 'decision' AND decision = 'deny' AND action = '${PAT_MESSAGES_ACTION}'`;

/** A row of USAGE_BY_MODEL_SQL: bigint and numeric come back from pg as decimal strings. */
type ModelRow = { model: string; requests: string; spendMicrousd: string } & Record<
  (typeof USAGE_FIELDS)[number],
  string
>;

const modelOf = (r: ModelRow): ModelUsage => ({
  model: r.model,
  requests: BigInt(r.requests),
  spendMicrousd: BigInt(r.spendMicrousd),
  tokens: Object.fromEntries(USAGE_FIELDS.map((f) => [f, BigInt(r[f])])) as UsageCounts,
});

/** Usage per PAT key, summed from the audit log under the org's row-level security. */
export function createUsageRepo(pool: pg.Pool) {
  return {
    /** The key's usage per model and its denied requests in the window. */
    async summarize(q: UsageQuery): Promise<PatUsage> {
      const args = [q.orgId, q.patKeyId, isoMicros(q.sinceUs), isoMicros(q.untilUs)];
      return inTenant(pool, q.orgId, async (db) => {
        const models = await db.query<ModelRow>(USAGE_BY_MODEL_SQL, args);
        const denied = await db.query<{ denied: string }>(DENIED_SQL, args);
        return {
          models: models.rows.map(modelOf),
          denied: BigInt(denied.rows[0]?.denied ?? '0'),
        };
      });
    },
  };
}

/** The usage repository. */
export type UsageRepo = ReturnType<typeof createUsageRepo>;
