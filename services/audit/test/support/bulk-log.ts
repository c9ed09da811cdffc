import { inTenant } from '@fortress/kit/pg';
import type pg from 'pg';
import { createChainWriter } from '../../src/adapters/pg/chain-writer.js';
import type { AuditRow } from '../../src/domain/audit-row.js';

/**
 * Appends rows n in [from, to) of a generated log through the chain writer, a thousand at a
 * time, each batch spread over `orgs` as the consumer would append it.
 */
export async function appendGenerated(
  pool: pg.Pool,
  orgs: string[],
  rowOf: (n: number) => AuditRow,
  from: number,
  to: number,
): Promise<void> {
  const writer = createChainWriter(pool);
  for (let i = from; i < to; i += 1000) {
    const rows = Array.from({ length: Math.min(1000, to - i) }, (_, j) => rowOf(i + j));
    await writer.appendMany(
      orgs.map((orgId) => ({ orgId, rows: rows.filter((r) => r.orgId === orgId) })),
    );
  }
}

/** A node of PostgreSQL's JSON plan, as far as the index tests look. */
export type PlanNode = {
  'Node Type': string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
};

const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

/** Every node of the plan of `sql` with `args`, as the runtime role in `orgId`'s tenant gets it. */
export async function planOf(
  pool: pg.Pool,
  orgId: string,
  sql: string,
  args: unknown[],
): Promise<PlanNode[]> {
  const plan = await inTenant(pool, orgId, (db) =>
    db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (FORMAT JSON) ${sql}`, args),
  );
  return nodes(plan.rows[0]?.['QUERY PLAN'][0]?.Plan as PlanNode);
}
