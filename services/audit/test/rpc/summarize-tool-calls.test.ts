import assert from 'node:assert/strict';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { envelope } from '@fortress/kit/event-bus';
import { inTenant } from '@fortress/kit/pg';
import {
  ToolCallCountsSchema,
  type AuditService,
  type SummarizeToolCallsResponse,
  type ToolCallCounts,
} from '@fortress/proto/audit/v1/audit_pb';
import { Decision, Hop, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { PgFixture } from '../../../../packages/kit/test/support/pg-fixture.js';
import { TOOL_CALLS_SQL } from '../../src/adapters/pg/tool-call-repo.js';
import { TOOL_CALL_COUNTS } from '../../src/domain/tool-calls.js';
import {
  INVALID_WINDOWS,
  NOW,
  SINCE,
  startSummaryWorld,
  ts,
  UNTIL,
} from '../support/summary-world.js';

const ORG_A = 'org_toolsa';
const ORG_B = 'org_toolsb';
const GET = 'zendesk__get_ticket';
const LIST = 'zendesk__list_tickets';
const DELETE = 'zendesk__delete_ticket';
const ISSUE = 'github__create_issue';

let requests = 0;

/** What a call's decision and outcome share, as the edge fills them in. */
function record(orgId: string, resource: string, at: string, action: string, requestId: string) {
  return {
    envelope: { orgId, occurredAt: ts(at), source: 'edge' },
    event: {
      requestId,
      product: Product.MCP,
      actor: { kind: PrincipalKind.ORG_KEY, subjectId: 'key_mcp', apiKeyId: 'key_mcp' },
      action,
      resource,
    },
  };
}

/** A decision on a tools/call (or, with `action`, on another MCP method). */
function decision(
  orgId: string,
  tool: string,
  at: string,
  deny: boolean,
  opts: { action?: string; requestId?: string; resource?: string } = {},
): EventEnvelope {
  const r = record(
    orgId,
    opts.resource ?? `tool:${tool}`,
    at,
    opts.action ?? 'mcp:tools.call',
    opts.requestId ?? `req_${++requests}`,
  );
  const verdict = deny
    ? {
        decision: Decision.DENY,
        decidedBy: Hop.POLICY,
        reasons: [{ code: 'not_granted', message: 'the role may not call it' }],
      }
    : { decision: Decision.ALLOW, decidedBy: Hop.POLICY };
  return envelope({
    ...r.envelope,
    payload: { case: 'decision', value: { ...r.event, ...verdict } },
  });
}

/** An allowed tools/call: its decision at `at`, and its outcome at `endedAt` (default `at`). */
function allowed(
  orgId: string,
  tool: string,
  at: string,
  statusCode: number,
  errorType = '',
  endedAt = at,
): EventEnvelope[] {
  const requestId = `req_${++requests}`;
  const r = record(orgId, `tool:${tool}`, endedAt, 'mcp:tools.call', requestId);
  return [
    decision(orgId, tool, at, false, { requestId }),
    envelope({
      ...r.envelope,
      payload: { case: 'outcome', value: { ...r.event, statusCode, errorType, latencyUs: 900 } },
    }),
  ];
}

const denied = (orgId: string, tool: string, at: string) => decision(orgId, tool, at, true);

const EVENTS = [
  // ORG_A in the window: the since bound is inclusive, until exclusive.
  ...allowed(ORG_A, GET, SINCE, 200),
  ...allowed(ORG_A, GET, '2026-10-11T00:00:00Z', 200, 'business_error'),
  ...allowed(ORG_A, GET, '2026-10-12T00:00:00Z', 502, 'connector_unavailable'),
  ...allowed(ORG_A, ISSUE, '2026-10-12T00:00:00Z', 400, 'invalid_arguments'),
  ...allowed(ORG_A, ISSUE, '2026-10-13T00:00:00Z', 200),
  denied(ORG_A, ISSUE, '2026-10-13T00:00:01Z'),
  denied(ORG_A, DELETE, '2026-10-14T00:00:00Z'),
  denied(ORG_A, DELETE, '2026-10-14T00:00:01Z'),
  ...allowed(ORG_A, LIST, '2026-10-15T00:00:00Z', 503, 'vault_unavailable'),
  denied(ORG_A, LIST, '2026-10-15T00:00:01Z'),
  // Decided in the window, ended after it: a call of this window, an outcome of the next.
  ...allowed(ORG_A, LIST, '2026-10-19T23:59:59.999Z', 200, '', UNTIL),
  // Refused at authentication: a denied call whose tool was never read.
  decision(ORG_A, '', '2026-10-16T00:00:00Z', true, { resource: '' }),
  // ORG_A, not tool calls: other MCP methods, PAT traffic.
  decision(ORG_A, '', '2026-10-16T00:00:00Z', false, {
    action: 'mcp:tools.list',
    resource: 'tool:*',
  }),
  decision(ORG_A, '', '2026-10-16T00:00:00Z', true, { action: 'mcp:request', resource: '' }),
  decision(ORG_A, '', '2026-10-16T00:00:00Z', true, {
    action: 'pat:messages.create',
    resource: 'model:claude-haiku-4-5',
  }),
  // ORG_A, outside the window on either side.
  ...allowed(ORG_A, GET, UNTIL, 200),
  denied(ORG_A, GET, '2026-10-09T23:59:59.999Z'),
  // ORG_B: busier, on the same tool names.
  ...allowed(ORG_B, GET, '2026-10-15T00:00:00Z', 200),
  ...allowed(ORG_B, GET, '2026-10-15T00:00:01Z', 200),
  denied(ORG_B, DELETE, '2026-10-15T00:00:02Z'),
  denied(ORG_B, DELETE, '2026-10-15T00:00:03Z'),
  denied(ORG_B, ISSUE, '2026-10-15T00:00:04Z'),
  // ORG_A around the default window (November up to NOW).
  denied(ORG_A, GET, '2026-10-31T23:59:59.999Z'),
  ...allowed(ORG_A, GET, '2026-11-01T00:00:00Z', 200),
  denied(ORG_A, LIST, '2026-11-16T11:59:59Z'),
  ...allowed(ORG_A, LIST, NOW.toISOString(), 200),
];

/** Counts as a row, in the order of TOOL_CALL_COUNTS. */
type Row = [bigint, bigint, bigint, bigint, bigint, bigint, bigint];
const row = (c: ToolCallCounts | undefined): Row =>
  TOOL_CALL_COUNTS.map((f) => c?.[f] ?? 0n) as Row;

/** A response as plain values: [name, calls, allowed, denied, succeeded, tool errors, rejected, failed]. */
function plain(res: SummarizeToolCallsResponse) {
  return {
    since: res.since ? timestampDate(res.since).toISOString() : '',
    until: res.until ? timestampDate(res.until).toISOString() : '',
    total: row(res.total),
    connectors: res.connectors.map((c) => [c.connectorId, ...row(c.counts)]),
    tools: res.tools.map((t) => [t.tool, t.connectorId, ...row(t.counts)]),
  };
}

describe('AuditService.SummarizeToolCalls', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let client: Client<typeof AuditService>;

  before(async () => {
    ({ fx, client } = await startSummaryWorld(EVENTS));
  });
  after(() => fx?.stop());

  it('names the counts as the protobuf message does', () => {
    assert.deepEqual(
      TOOL_CALL_COUNTS,
      ToolCallCountsSchema.fields.map((f) => f.localName),
    );
  });

  it('counts each call once by its decision, and how allowed ones ended, per connector and tool', async () => {
    const res = await client.summarizeToolCalls({
      orgId: ORG_A,
      since: ts(SINCE),
      until: ts(UNTIL),
    });
    // [calls, allowed, denied, succeeded, tool errors, rejected, failed]
    assert.deepEqual(plain(res), {
      since: '2026-10-10T00:00:00.000Z',
      until: '2026-10-20T00:00:00.000Z',
      total: [12n, 7n, 5n, 2n, 1n, 1n, 2n],
      connectors: [
        ['zendesk', 8n, 5n, 3n, 1n, 1n, 0n, 2n],
        ['github', 3n, 2n, 1n, 1n, 0n, 1n, 0n],
        ['', 1n, 0n, 1n, 0n, 0n, 0n, 0n],
      ],
      // Most calls first, then by name.
      tools: [
        [ISSUE, 'github', 3n, 2n, 1n, 1n, 0n, 1n, 0n],
        [GET, 'zendesk', 3n, 3n, 0n, 1n, 1n, 0n, 1n],
        [LIST, 'zendesk', 3n, 2n, 1n, 0n, 0n, 0n, 1n],
        [DELETE, 'zendesk', 2n, 0n, 2n, 0n, 0n, 0n, 0n],
        ['', '', 1n, 0n, 1n, 0n, 0n, 0n, 0n],
      ],
    });
  });

  it("never counts another org's calls, though the tool names are the same", async () => {
    const b = plain(
      await client.summarizeToolCalls({ orgId: ORG_B, since: ts(SINCE), until: ts(UNTIL) }),
    );
    assert.deepEqual(b.total, [5n, 2n, 3n, 2n, 0n, 0n, 0n]);
    assert.deepEqual(b.tools, [
      [DELETE, 'zendesk', 2n, 0n, 2n, 0n, 0n, 0n, 0n],
      [GET, 'zendesk', 2n, 2n, 0n, 2n, 0n, 0n, 0n],
      [ISSUE, 'github', 1n, 0n, 1n, 0n, 0n, 0n, 0n],
    ]);
    const none = plain(
      await client.summarizeToolCalls({ orgId: 'org_toolsc', since: ts(SINCE), until: ts(UNTIL) }),
    );
    assert.deepEqual(none, {
      since: '2026-10-10T00:00:00.000Z',
      until: '2026-10-20T00:00:00.000Z',
      total: [0n, 0n, 0n, 0n, 0n, 0n, 0n],
      connectors: [],
      tools: [],
    });
  });

  it("leaves the isolation to row-level security: asking for another org's rows finds none", async () => {
    const pool = fx.runtimePool('audit');
    const window = ['2026-10-01T00:00:00Z', '2026-11-01T00:00:00Z'];
    const asA = await inTenant(pool, ORG_A, (db) =>
      db.query<{ calls: string }>(TOOL_CALLS_SQL, [ORG_B, ...window]),
    );
    assert.deepEqual(
      asA.rows.map((r) => r.calls),
      ['0'],
      'only the empty total',
    );
  });

  it('defaults to the calendar month so far (UTC)', async () => {
    const res = plain(await client.summarizeToolCalls({ orgId: ORG_A }));
    assert.deepEqual(
      [res.since, res.until, res.total],
      ['2026-11-01T00:00:00.000Z', NOW.toISOString(), [2n, 1n, 1n, 1n, 0n, 0n, 0n]],
    );
    assert.deepEqual(
      res.tools.map((t) => t[0]),
      [GET, LIST],
    );
  });

  it('ends an open window now, and starts an open one at the month start', async () => {
    const from = plain(await client.summarizeToolCalls({ orgId: ORG_A, since: ts(UNTIL) }));
    // The late outcome, the call at UNTIL, the one on Oct 31 and November's two.
    assert.deepEqual(from.total, [4n, 2n, 2n, 3n, 0n, 0n, 0n]);
    const upTo = plain(
      await client.summarizeToolCalls({ orgId: ORG_A, until: ts('2026-11-16T00:00:00Z') }),
    );
    assert.deepEqual(upTo.total, [1n, 1n, 0n, 1n, 0n, 0n, 0n]);
  });

  const invalid = [
    { name: 'no org id', req: { orgId: '' }, field: 'org_id' },
    { name: 'a malformed org id', req: { orgId: "org_x'--" }, field: 'org_id' },
    { name: 'an id of another kind as the org', req: { orgId: 'pat_k1' }, field: 'org_id' },
    ...INVALID_WINDOWS.map((w) => ({ ...w, req: { orgId: ORG_A, ...w.window } })),
  ];
  for (const c of invalid)
    it(`refuses ${c.name} as invalid ${c.field}`, async () => {
      const err = await client.summarizeToolCalls(c.req).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError, String(err));
      assert.deepEqual(
        [err.code, err.metadata.get('fortress-field')],
        [Code.InvalidArgument, c.field],
      );
    });
});
