import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import { isoMicros, type UsageWindow } from '../../domain/pat-usage.js';
import {
  MCP_TOOL_CALL_ACTION,
  TOOL_CALL_COUNTS,
  type ToolCallCounts,
  type ToolCallSummary,
} from '../../domain/tool-calls.js';

/** Whose tool calls, over which window. */
export interface ToolCallQuery extends UsageWindow {
  orgId: string;
}

/**
 * An org's tool calls in [since, until), per tool, per connector and in total, in one
 * statement over the rows of the events_mcp_tool_calls index (migration 006, whose predicate
 * this repeats as a literal so the planner can use it).
 *
 * Every tools/call the edge decides on has exactly one decision record, allowed or denied;
 * only an allowed call goes on to a connector and gets an outcome record. So calls are
 * counted by their decisions alone — an allowed call with an outcome is not counted twice, a
 * denied one is counted though it has no outcome — and the outcomes only say how allowed
 * calls ended, by status: 5xx failed, 4xx rejected, otherwise an error type (the tool's
 * isError) or success. Tools and connectors are ordered by most calls, then by name, byte-wise
 * (COLLATE "C"), so the order does not depend on the database's locale.
 */
export const TOOL_CALLS_SQL = `SELECT
    GROUPING(connector, tool) AS level,
    connector,
    tool,
    count(*) FILTER (WHERE kind = 'decision') AS calls,
    count(*) FILTER (WHERE kind = 'decision' AND decision = 'allow') AS allowed,
    count(*) FILTER (WHERE kind = 'decision' AND decision = 'deny') AS denied,
    count(*) FILTER (WHERE ended = 'succeeded') AS succeeded,
    count(*) FILTER (WHERE ended = 'tool_error') AS "toolErrors",
    count(*) FILTER (WHERE ended = 'rejected') AS rejected,
    count(*) FILTER (WHERE ended = 'failed') AS failed
  FROM (
    SELECT e.kind, e.decision, t.tool, split_part(t.tool, '__', 1) AS connector,
      CASE WHEN e.kind <> 'outcome' THEN NULL
           WHEN e.status_code >= 500 THEN 'failed'
           WHEN e.status_code >= 400 THEN 'rejected'
           WHEN e.event -> 'outcome' ->> 'errorType' IS NOT NULL THEN 'tool_error'
           ELSE 'succeeded' END AS ended
    FROM events e
    CROSS JOIN LATERAL (SELECT
        (CASE WHEN starts_with(e.resource, 'tool:') THEN substr(e.resource, 6) ELSE e.resource END)
          COLLATE "C" AS tool) t
    WHERE e.org_id = $1
      AND e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz
      AND e.action = '${MCP_TOOL_CALL_ACTION}'
  ) c
  GROUP BY GROUPING SETS ((connector, tool), (connector), ())
  ORDER BY level, calls DESC, tool, connector`;

/** GROUPING(connector, tool) of a row: which of the three sums it is. */
const LEVEL = { tool: 0, connector: 1, total: 3 } as const;

/** A row of TOOL_CALLS_SQL: counts come back from pg as decimal strings. */
type Row = { level: number; connector: string | null; tool: string | null } & Record<
  (typeof TOOL_CALL_COUNTS)[number],
  string
>;

const countsOf = (r: Row): ToolCallCounts =>
  Object.fromEntries(TOOL_CALL_COUNTS.map((f) => [f, BigInt(r[f])])) as ToolCallCounts;

/** MCP tool calls per org, counted from the audit log under the org's row-level security. */
export function createToolCallRepo(pool: pg.Pool) {
  return {
    /** The org's tool calls in the window, in total, per connector and per tool. */
    async summarize(q: ToolCallQuery): Promise<ToolCallSummary> {
      const args = [q.orgId, isoMicros(q.sinceUs), isoMicros(q.untilUs)];
      const { rows } = await inTenant(pool, q.orgId, (db) => db.query<Row>(TOOL_CALLS_SQL, args));
      const total = rows.find((r) => r.level === LEVEL.total);
      // The empty grouping set always yields its row, zeros included.
      if (!total) throw new Error('the tool call summary has no total row');
      return {
        total: countsOf(total),
        connectors: rows
          .filter((r) => r.level === LEVEL.connector)
          .map((r) => ({ connectorId: r.connector ?? '', counts: countsOf(r) })),
        tools: rows
          .filter((r) => r.level === LEVEL.tool)
          .map((r) => ({
            tool: r.tool ?? '',
            connectorId: r.connector ?? '',
            counts: countsOf(r),
          })),
      };
    },
  };
}

/** The tool call repository. */
export type ToolCallRepo = ReturnType<typeof createToolCallRepo>;
