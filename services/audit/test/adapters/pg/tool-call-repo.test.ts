import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { envelope } from '@fortress/kit/event-bus';
import { Decision, Product } from '@fortress/proto/common/v1/common_pb';
import type pg from 'pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { createToolCallRepo, TOOL_CALLS_SQL } from '../../../src/adapters/pg/tool-call-repo.js';
import { toAuditRow, type AuditRow } from '../../../src/domain/audit-row.js';
import { microsOf } from '../../../src/domain/pat-usage.js';
import { migrationsAfter, migrationsUpTo, provisionAudit } from '../../support/audit-migrations.js';
import { appendGenerated, planOf } from '../../support/bulk-log.js';

const ORGS = Array.from({ length: 10 }, (_, i) => `org_t${i}`);
const START = Date.UTC(2026, 8, 1);
const DAY = 86_400_000;
const TOOLS = ['zendesk__get_ticket', 'zendesk__list_tickets', 'github__create_issue'];

/**
 * Row n of an org's traffic over 60 days: 1 in 4 a tools/call decision (1 in 3 of those a
 * deny), 1 in 4 its outcome, the rest tools/list and PAT traffic the summary must not read.
 */
function row(n: number, total: number): AuditRow {
  const orgId = ORGS[n % ORGS.length] ?? '';
  const at = timestampFromDate(new Date(START + Math.floor((n / total) * 60 * DAY)));
  const kind = (n >> 4) % 4;
  const call = {
    requestId: `req_${n}`,
    product: Product.MCP,
    actor: { subjectId: 'key_1' },
    action: 'mcp:tools.call',
    resource: `tool:${TOOLS[n % 3] ?? ''}`,
  };
  const payload =
    kind === 0
      ? {
          case: 'decision' as const,
          value: { ...call, decision: n % 3 === 0 ? Decision.DENY : Decision.ALLOW },
        }
      : kind === 1
        ? { case: 'outcome' as const, value: { ...call, statusCode: 200 } }
        : kind === 2
          ? {
              case: 'decision' as const,
              value: { ...call, action: 'mcp:tools.list', resource: 'tool:*' },
            }
          : {
              case: 'decision' as const,
              value: {
                ...call,
                product: Product.PAT,
                action: 'pat:messages.create',
                resource: 'model:claude-haiku-4-5',
              },
            };
  return toAuditRow(envelope({ orgId, occurredAt: at, source: 'edge', payload }));
}

/**
 * Migration 006 (an org's MCP tool calls by time) on an installation that already has rows:
 * they are indexed and counted, and a window of one org's calls is an index range under
 * row-level security.
 */
describe('MCP tool calls per org on PostgreSQL (migration 006)', function () {
  this.timeout(120_000);
  const TOTAL = 8000;
  const BEFORE = 4000;
  let fx: PgFixture;
  let upTo005: string;
  let pool: pg.Pool;
  let applied: number;

  before(async () => {
    fx = await startPgFixture([]);
    upTo005 = await migrationsUpTo('005');
    await provisionAudit(fx, upTo005);
    pool = fx.runtimePool('audit');
    const rowOf = (n: number) => row(n, TOTAL);
    await appendGenerated(pool, ORGS, rowOf, 0, BEFORE);
    applied = await provisionAudit(fx);
    await appendGenerated(pool, ORGS, rowOf, BEFORE, TOTAL);
    await fx.admin.query('ANALYZE audit.events');
  });
  after(async () => {
    await fx?.stop();
    if (upTo005) await rm(upTo005, { recursive: true, force: true });
  });

  it('applies on top of a populated log', async () => {
    assert.equal(applied, await migrationsAfter('005'));
  });

  it('counts the calls of one org in the window, rows from before the migration and after', async () => {
    const since = START + 10 * DAY;
    const until = START + 50 * DAY;
    const rows = Array.from({ length: TOTAL }, (_, n) => row(n, TOTAL)).filter(
      (r) =>
        r.orgId === 'org_t3' &&
        r.action === 'mcp:tools.call' &&
        r.occurredAt.getTime() >= since &&
        r.occurredAt.getTime() < until,
    );
    const expected = (f: (r: AuditRow) => boolean) => BigInt(rows.filter(f).length);
    const summary = await createToolCallRepo(pool).summarize({
      orgId: 'org_t3',
      sinceUs: microsOf(new Date(since)),
      untilUs: microsOf(new Date(until)),
    });
    assert.ok(rows.length > 0);
    assert.deepEqual(
      [summary.total.calls, summary.total.denied, summary.total.succeeded],
      [
        expected((r) => r.kind === 'decision'),
        expected((r) => r.decision === 'deny'),
        expected((r) => r.kind === 'outcome'),
      ],
    );
    assert.deepEqual(summary.connectors.map((c) => c.connectorId).sort(), ['github', 'zendesk']);
  });

  it("reads an org's window by a range of events_mcp_tool_calls under row-level security", async () => {
    const args = ['org_t3', '2026-10-01T00:00:00Z', '2026-10-15T00:00:00Z'];
    const all = await planOf(pool, 'org_t3', TOOL_CALLS_SQL, args);
    assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan'), JSON.stringify(all));
    const scan = all.find((n) => n['Index Name'] === 'events_mcp_tool_calls');
    assert.match(scan?.['Index Cond'] ?? '', /org_id = 'org_t3'/, JSON.stringify(all));
    assert.match(scan?.['Index Cond'] ?? '', /occurred_at >= /);
    assert.match(scan?.['Index Cond'] ?? '', /occurred_at < /);
  });
});
