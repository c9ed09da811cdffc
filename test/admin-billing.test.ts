import assert from 'node:assert/strict';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { SeatChange } from '@fortress/proto/billing/v1/billing_pb';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import {
  adminSession,
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';
import { adminRest, assertProblem } from './support/admin-rest.js';
import { legacyClient, seedMcpOrg } from './support/mcp.js';

/** Tool call counts as the metering route shows them (uint64s as strings). */
interface ToolCallCountsJson {
  calls: string;
  allowed: string;
  denied: string;
  succeeded: string;
  tool_errors: string;
  rejected: string;
  failed: string;
}

interface MeteringJson {
  since: string;
  until: string;
  pat: {
    requests: string;
    denied: string;
    spend_microusd: string;
    usage: { input_tokens: string; output_tokens: string };
    models: Array<{ model: string; requests: string; spend_microusd: string }>;
    keys: Array<{ pat_key_id: string; label: string; requests: string; spend_microusd: string }>;
  };
  mcp: ToolCallCountsJson & {
    connectors: Array<ToolCallCountsJson & { connector_id: string }>;
    tools: Array<ToolCallCountsJson & { tool: string; connector_id: string }>;
  };
}

/**
 * The admin API's billing (`/api/v1/billing`) and metering (`/api/v1/metering/usage`) end to
 * end: the seeds' worked invoice read back as JSON and as a PDF, the month's PAT usage and
 * spend across every PAT key of the org, and its MCP tool calls per connector and tool, after
 * real requests through the gateway.
 */
describe('admin API: billing and metering', function () {
  this.timeout(120_000);
  let stack: TestStack;

  const rest = adminRest(() => stack.edgeUrl);
  const call = (method: string, path: string, token?: string, body?: unknown) =>
    rest(method, path, { ...(token ? { token } : {}), ...(body !== undefined ? { body } : {}) });

  before(async () => {
    stack = await useStack();
  });

  describe('billing (/api/v1/billing)', () => {
    let orgId: string;
    let ownerToken: string;
    let adminToken: string;

    before(async () => {
      const org = await stack.seed();
      orgId = org.orgId;
      const billing = stack.operator.billing;
      await billing.setAccount({ orgId, tier: Tier.BANK, anchorDate: '2026-01-15' });
      const seat = (userId: string, product: Product, iso: string) =>
        billing.recordSeatChange({
          orgId,
          userId,
          product,
          change: SeatChange.GRANTED,
          effectiveAt: timestampFromDate(new Date(iso)),
        });
      // The seeds' example: 60 bundle seats on Jan 15, 5 MCP on Jan 25, 3 PAT on Feb 1.
      for (let i = 1; i <= 60; i++)
        for (const p of [Product.MCP, Product.PAT])
          await seat(`usr_b${i}`, p, '2026-01-15T09:00:00Z');
      for (let i = 1; i <= 5; i++) await seat(`usr_m${i}`, Product.MCP, '2026-01-25T09:00:00Z');
      for (let i = 1; i <= 3; i++) await seat(`usr_p${i}`, Product.PAT, '2026-02-01T09:00:00Z');
      ownerToken = await adminSession(stack, orgId, 'owner');
      adminToken = await adminSession(stack, orgId, 'admin');
    });

    it("shows the account and the seeds' invoice ($503.71, then $520.00) as JSON", async () => {
      const account = await call('GET', '/billing/account', adminToken);
      assert.equal(account.status, 200, account.text);
      assert.deepEqual(account.json['account'], {
        org_id: orgId,
        tier: 'TIER_BANK',
        anchor_date: '2026-01-15',
      });
      const r = await call('GET', '/billing/invoice?cycle_start=2026-01-15', ownerToken);
      assert.equal(r.status, 200, r.text);
      const invoice = r.json['invoice'] as {
        total_cents: string;
        cycle_start: string;
        cycle_end: string;
        currency: string;
        lines: Array<{ kind: string; amount_cents: string }>;
        seats: { total: number };
      };
      assert.equal(invoice.total_cents, '50371');
      assert.equal(invoice.cycle_start, '2026-01-15');
      assert.equal(invoice.cycle_end, '2026-02-14');
      assert.equal(invoice.currency, 'USD');
      assert.equal(invoice.seats.total, 68);
      assert.deepEqual(
        invoice.lines.map((l) => [l.kind, l.amount_cents]),
        [
          ['LINE_KIND_CYCLE', '48000'],
          ['LINE_KIND_ADDITION', '1694'],
          ['LINE_KIND_ADDITION', '677'],
        ],
      );
      const next = await call('GET', '/billing/invoice?cycle_start=2026-02-15', adminToken);
      assert.equal((next.json['invoice'] as { total_cents: string }).total_cents, '52000');
      const rows = await stack.auditRows(orgId);
      assert.ok(
        rows.some((row) => row.action === 'admin:billing.read' && row.decision === 'allow'),
      );
    });

    it('downloads the same invoice as a PDF', async () => {
      const r = await call('GET', '/billing/invoice.pdf?cycle_start=2026-01-15', ownerToken);
      assert.equal(r.status, 200);
      assert.equal(r.headers.get('content-type'), 'application/pdf');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      assert.match(
        r.headers.get('content-disposition') ?? '',
        new RegExp(`^attachment; filename="fortress-invoice-${orgId}-2026-01-15\\.pdf"$`),
      );
      assert.equal(r.bytes.subarray(0, 5).toString('latin1'), '%PDF-');
      assert.ok(r.bytes.length > 1000);
    });

    it('answers bad input, no account, no session and writes with problems', async () => {
      assertProblem(
        await call('GET', '/billing/invoice?cycle_start=15/01/2026', adminToken),
        400,
        'invalid_request',
      );
      assertProblem(
        await call('GET', '/billing/invoice.pdf?cycle_start=2026-1-15', adminToken),
        400,
        'invalid_request',
      );
      // A day that is not a cycle start is the billing service's refusal, passed on.
      assertProblem(
        await call('GET', '/billing/invoice?cycle_start=2026-01-16', adminToken),
        400,
        'invalid_request',
      );
      const other = await stack.seed();
      const otherToken = await adminSession(stack, other.orgId, 'owner');
      assertProblem(await call('GET', '/billing/invoice', otherToken), 404, 'account_not_found');
      assertProblem(
        await call('GET', '/billing/invoice.pdf', otherToken),
        404,
        'account_not_found',
      );
      assertProblem(await call('GET', '/billing/invoice'), 401, 'missing_token');
      const put = await call('PUT', '/billing/account', ownerToken, { tier: 'TIER_SOHO' });
      assertProblem(put, 405, 'method_not_allowed');
    });
  });

  describe('metering (/api/v1/metering/usage)', () => {
    it("sums this month's PAT requests and spend over every PAT key of the org", async () => {
      const org = await stack.seed();
      const token = await adminSession(stack, org.orgId, 'admin');
      // A second PAT key, and an org key for it, made through the admin API.
      const pk = await call('POST', '/pat-keys', token, {
        label: 'Second key',
        anthropic_key: stack.sandboxAnthropicKey,
      });
      assert.equal(pk.status, 201, pk.text);
      const secondId = (pk.json['pat_key'] as { id: string }).id;
      const ok = await call('POST', '/org-keys', token, {
        label: 'second',
        roles: ['developer'],
        pat_key_id: secondId,
      });
      assert.equal(ok.status, 201, ok.text);
      const secondKey = ok.json['secret'] as string;
      stack.issuedSecrets.push(secondKey);

      const spent: number[] = [];
      for (const key of [org.orgKey, org.orgKey, secondKey]) {
        const r = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': key } });
        assert.equal(r.status, 200);
        const u = r.json['usage'] as { input_tokens: number; output_tokens: number };
        // Haiku 4.5: $1 per million input tokens, $5 per million output tokens.
        spent.push(u.input_tokens * 1 + u.output_tokens * 5);
      }
      const denied = await postMessages(stack.edgeUrl, {
        headers: { 'x-api-key': org.orgKey },
        model: DENIED_MODEL,
      });
      assert.equal(denied.status, 403);

      const usage = await eventually(async () => {
        const r = await call('GET', '/metering/usage', token);
        const m = r.json as unknown as MeteringJson;
        return r.status === 200 && m.pat.requests === '3' && m.pat.denied === '1' ? m : undefined;
      }, 'the requests in the metering');
      const total = spent.reduce((a, b) => a + b, 0);
      assert.equal(usage.pat.spend_microusd, String(total));
      assert.deepEqual(
        usage.pat.models.map((m) => [m.model, m.requests, m.spend_microusd]),
        [[ALLOWED_MODEL, '3', String(total)]],
      );
      assert.deepEqual(
        usage.pat.keys.map((k) => [k.pat_key_id, k.requests]).sort(),
        [
          [org.patKeyId, '2'],
          [secondId, '1'],
        ].sort(),
      );
      assert.equal(usage.pat.keys.find((k) => k.pat_key_id === secondId)?.label, 'Second key');
      // PAT traffic is no tool call.
      assert.deepEqual([usage.mcp.calls, usage.mcp.denied, usage.mcp.tools], ['0', '0', []]);
      const now = new Date();
      const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      assert.equal(usage.since, monthStart.toISOString());
      assert.ok(Date.parse(usage.until) > Date.parse(usage.since));

      // A window before the requests: nothing.
      const before = await call(
        'GET',
        `/metering/usage?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z`,
        token,
      );
      assert.equal(before.status, 200, before.text);
      assert.equal((before.json as unknown as MeteringJson).pat.requests, '0');
      assertProblem(
        await call(
          'GET',
          '/metering/usage?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z',
          token,
        ),
        400,
        'invalid_request',
      );
      assertProblem(
        await call('GET', '/metering/usage?since=yesterday', token),
        400,
        'invalid_request',
      );
      assertProblem(await call('GET', '/metering/usage'), 401, 'missing_token');
    });

    it("counts this month's MCP tool calls once each, per connector and tool, and how they ended", async () => {
      const mcpOrg = await seedMcpOrg(stack);
      const support = await legacyClient(stack, mcpOrg.keys.support);
      const viewer = await legacyClient(stack, mcpOrg.keys.viewer);
      try {
        // Listing is no tool call.
        await support.listTools();
        const get = (id: unknown) =>
          support.callTool({ name: 'zendesk__get_ticket', arguments: { id } });
        for (const id of [1, 2]) assert.notEqual((await get(id)).isError, true);
        const list = await support.callTool({ name: 'zendesk__list_tickets', arguments: {} });
        assert.notEqual(list.isError, true);
        // Zendesk has no such ticket: the tool answers with an error result.
        assert.equal((await get(999_999)).isError, true);
        // Refused by the edge against the tool's input schema, after the allow.
        await assert.rejects(get('not a number'), /input schema/);
        // Denied by policy: the role's explicit deny, and a role without the grant.
        await assert.rejects(
          support.callTool({ name: 'zendesk__delete_ticket', arguments: { id: 1 } }),
          /Policy denied/,
        );
        await assert.rejects(
          viewer.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } }),
          /Policy denied/,
        );
        // Allowed, then failing at the connector.
        mcpOrg.zendesk.setDown('503');
        assert.equal((await get(1)).isError, true);
      } finally {
        mcpOrg.zendesk.setDown(false);
        await Promise.all([support.close(), viewer.close()]);
        await mcpOrg.zendesk.close();
      }

      const counts = (
        calls: number,
        allowed: number,
        denied: number,
        succeeded: number,
        toolErrors: number,
        rejected: number,
        failed: number,
      ): ToolCallCountsJson => ({
        calls: String(calls),
        allowed: String(allowed),
        denied: String(denied),
        succeeded: String(succeeded),
        tool_errors: String(toolErrors),
        rejected: String(rejected),
        failed: String(failed),
      });
      const all = counts(8, 6, 2, 3, 1, 1, 1);
      const usage = await eventually(async () => {
        const r = await call('GET', '/metering/usage', mcpOrg.owner);
        const m = r.json as unknown as MeteringJson;
        return r.status === 200 && m.mcp.calls === all.calls && m.mcp.failed === all.failed
          ? m
          : undefined;
      }, 'the tool calls in the metering');
      const { connectors, tools, ...total } = usage.mcp;
      assert.deepEqual(total, all);
      assert.deepEqual(connectors, [{ connector_id: 'zendesk', ...all }]);
      // Most calls first, then by name.
      assert.deepEqual(tools, [
        { tool: 'zendesk__get_ticket', connector_id: 'zendesk', ...counts(6, 5, 1, 2, 1, 1, 1) },
        { tool: 'zendesk__delete_ticket', connector_id: 'zendesk', ...counts(1, 0, 1, 0, 0, 0, 0) },
        { tool: 'zendesk__list_tickets', connector_id: 'zendesk', ...counts(1, 1, 0, 1, 0, 0, 0) },
      ]);
      assert.equal(usage.pat.requests, '0');

      // Another org's report has none of them; a window before them, neither.
      const other = await stack.seed();
      const otherToken = await adminSession(stack, other.orgId, 'admin');
      const theirs = (await call('GET', '/metering/usage', otherToken))
        .json as unknown as MeteringJson;
      assert.deepEqual([theirs.mcp.calls, theirs.mcp.tools], ['0', []]);
      const before = await call(
        'GET',
        '/metering/usage?since=2020-01-01T00:00:00Z&until=2020-02-01T00:00:00Z',
        mcpOrg.owner,
      );
      assert.equal((before.json as unknown as MeteringJson).mcp.calls, '0');
    });
  });
});
