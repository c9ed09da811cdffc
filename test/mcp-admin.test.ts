import assert from 'node:assert/strict';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { ConnectorService, ConnectorStatus, RoleService } from '@fortress/proto/admin/v1/admin_pb';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { Effect } from '@fortress/proto/policy/v1/policy_pb';
import { ZENDESK_DEFAULTS } from '@fortress/sandbox/saas/zendesk';
import { adminCall, mcpPost, seedMcpOrg, type McpOrg } from './support/mcp.js';
import { adminSession, useStack, type TestStack } from './support/stack.js';

const MODERN = '2026-07-28';
const call = (stack: TestStack, key: string, name: string, args: Record<string, unknown>) =>
  mcpPost(
    stack.edgeUrl,
    {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    },
    {
      'x-api-key': key,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    },
  );

describe('MCP Fortress: connectors, roles and redaction in the admin API (M3, S11)', () => {
  let stack: TestStack;
  let org: McpOrg;

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await seedMcpOrg(stack);
  });
  after(async () => org?.zendesk.close());

  it('shows connectors with their tools and credential metadata, never the secret', async () => {
    const list = await adminCall(stack, org.owner, 'GET', '/connectors');
    assert.equal(list.status, 200);
    const text = JSON.stringify(list.json);
    assert.ok(!text.includes(ZENDESK_DEFAULTS.apiToken), 'no secret in the listing');
    const [c] = list.json['connectors'] as Array<{
      id: string;
      status: string;
      tools: string[];
      credential: { kind: string; last_four: string };
    }>;
    assert.equal(c?.id, 'zendesk');
    assert.equal(c?.status, 'CONNECTOR_STATUS_ACTIVE');
    assert.ok(c?.tools.includes('zendesk__list_tickets'));
    assert.equal(c?.credential.kind, 'CREDENTIAL_KIND_API_KEY');
    assert.ok((c?.credential.last_four.length ?? 0) <= 4);
  });

  it("disables a connector with PUT enabled:false (the seeds' toggle) and re-enables it", async () => {
    const off = await adminCall(stack, org.owner, 'PUT', '/connectors/zendesk', {
      label: 'Support desk (paused)',
      enabled: false,
    });
    assert.equal(off.status, 200);
    assert.equal((off.json['connector'] as { status: string }).status, 'CONNECTOR_STATUS_KILLED');
    const denied = await call(stack, org.keys.support, 'zendesk__get_ticket', { id: 1 });
    assert.equal(
      (denied.json['error'] as { data: { code: string } }).data.code,
      'connector_killed',
    );
    const on = await adminCall(stack, org.owner, 'PUT', '/connectors/zendesk', { enabled: true });
    assert.equal(
      (on.json['connector'] as { status: string; label: string }).status,
      'CONNECTOR_STATUS_ACTIVE',
    );
    assert.equal((on.json['connector'] as { label: string }).label, 'Support desk (paused)');
  });

  it('rotates the credential: a wrong one fails the test (OFFLINE), the right one passes (ACTIVE)', async () => {
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const rotate = (token: string) =>
      adminCall(stack, org.owner, 'POST', '/connectors/zendesk/rotate', {
        credential: { secret: b64(token), fields: { username: b64(ZENDESK_DEFAULTS.email) } },
      });
    assert.equal((await rotate('wrong-token-123456')).status, 200);
    const bad = await adminCall(stack, org.owner, 'POST', '/connectors/zendesk/test');
    assert.equal(bad.json['ok'], false);
    assert.equal((bad.json['connector'] as { status: string }).status, 'CONNECTOR_STATUS_OFFLINE');
    assert.ok(!JSON.stringify(bad.json).includes('wrong-token-123456'), 'no secret in the answer');
    await rotate(ZENDESK_DEFAULTS.apiToken);
    const good = await adminCall(stack, org.owner, 'POST', '/connectors/zendesk/test');
    assert.equal(good.json['ok'], true);
    assert.equal((good.json['connector'] as { status: string }).status, 'CONNECTOR_STATUS_ACTIVE');
  });

  it('edits roles through /roles: create, conflict, update (takes effect), delete', async () => {
    const role = {
      name: 'triage',
      grants: [
        { resource_type: 'tool', resource_id: 'zendesk__list_tickets', effect: 'EFFECT_ALLOW' },
      ],
    };
    assert.equal((await adminCall(stack, org.owner, 'POST', '/roles', role)).status, 201);
    assert.equal((await adminCall(stack, org.owner, 'POST', '/roles', role)).status, 409);
    const bad = await adminCall(stack, org.owner, 'POST', '/roles', {
      name: 'broken',
      grants: [{ resource_type: 'tool', resource_id: 'no tool', effect: 'EFFECT_ALLOW' }],
    });
    assert.equal(bad.status, 400);
    const listed = await adminCall(stack, org.owner, 'GET', '/roles');
    assert.ok((listed.json['roles'] as Array<{ name: string }>).some((r) => r.name === 'triage'));
    // The viewer role loses list_tickets: the next call is denied.
    const put = await adminCall(stack, org.owner, 'PUT', '/roles/viewer', { grants: [] });
    assert.equal(put.status, 200);
    const denied = await call(stack, org.keys.viewer, 'zendesk__list_tickets', {});
    assert.equal((denied.json['error'] as { code: number }).code, -32602);
    assert.equal((await adminCall(stack, org.owner, 'DELETE', '/roles/triage')).status, 204);
    assert.equal(
      (await adminCall(stack, org.owner, 'PUT', '/roles/triage', { grants: [] })).status,
      404,
    );
  });

  it('keeps custom redaction patterns to Bank and Zero Trust orgs, and refuses patterns RE2 cannot run', async () => {
    const profile = {
      kinds: ['REDACTION_KIND_EMAIL'],
      custom: [{ id: 'mrn', pattern: 'MRN-\\d{8}', mask: 'MRN-████████' }],
    };
    const soho = await adminCall(stack, org.owner, 'PUT', '/redaction/support/zendesk', profile);
    assert.deepEqual([soho.status, soho.json['code']], [403, 'tier_required']);
    const kindsOnly = await adminCall(stack, org.owner, 'PUT', '/redaction/support/zendesk', {
      kinds: ['REDACTION_KIND_EMAIL'],
    });
    assert.equal(kindsOnly.status, 200);

    const bank = await stack.seed({ tier: Tier.BANK });
    const bankOwner = await adminSession(stack, bank.orgId, 'owner', 'bank-owner@example.com');
    const ok = await adminCall(stack, bankOwner, 'PUT', '/redaction/support/zendesk', profile);
    assert.equal(ok.status, 200);
    const backreference = await adminCall(stack, bankOwner, 'PUT', '/redaction/support/zendesk', {
      custom: [{ id: 'bad', pattern: '(a)\\1', mask: '' }],
    });
    assert.equal(backreference.status, 400);
    await adminCall(stack, org.owner, 'PUT', '/redaction/support/zendesk', {});
  });

  it('serves connectors and roles as admin RPCs too (Connect and gRPC-Web), through the same chain', async () => {
    const headers = { authorization: `Bearer ${org.owner}` };
    for (const transport of [
      createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
      createGrpcWebTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
    ]) {
      const connectors = createClient(ConnectorService, transport);
      const listed = await connectors.listConnectors({}, { headers });
      const zd = listed.connectors.find((c) => c.id === 'zendesk');
      assert.ok(zd?.tools.includes('zendesk__get_ticket'));
      const tested = await connectors.testConnector({ id: 'zendesk' }, { headers });
      assert.equal(tested.ok, true);
      const killed = await connectors.killConnector(
        { id: 'zendesk', reason: 'rpc drill' },
        { headers },
      );
      assert.equal(killed.connector?.status, ConnectorStatus.KILLED);
      const enabled = await connectors.enableConnector({ id: 'zendesk' }, { headers });
      assert.equal(enabled.connector?.status, ConnectorStatus.ACTIVE);
      await assert.rejects(
        connectors.listConnectors({}),
        (err: unknown) => err instanceof ConnectError && err.code === Code.Unauthenticated,
      );
      const roles = createClient(RoleService, transport);
      await roles.putRole(
        {
          role: {
            name: 'rpcrole',
            grants: [{ resourceType: 'tool', resourceId: 'zendesk__*', effect: Effect.ALLOW }],
          },
        },
        { headers },
      );
      await roles.putRole({ role: { name: 'rpcrole', grants: [] } }, { headers });
      const after = await roles.listRoles({}, { headers });
      assert.deepEqual(after.roles.find((r) => r.name === 'rpcrole')?.grants, []);
      await roles.deleteRole({ name: 'rpcrole' }, { headers });
    }
  });

  it('runs a catastrophic-backtracking pattern over a large result without stalling (linear-time engine)', async function () {
    this.timeout(30_000);
    // Set through the policy directly (the SOHO org could not through the API): the gateway
    // must survive whatever pattern reaches it.
    await stack.operator.policyAdmin.putRedaction({
      orgId: org.orgId,
      role: 'support',
      connectorId: 'zendesk',
      profile: { custom: [{ id: 'redos', pattern: '(a+)+$', mask: '' }] },
      actorId: 'operator',
    });
    const description = `${'a'.repeat(40_000)}!`;
    const created = await call(stack, org.keys.support, 'zendesk__create_ticket', {
      subject: 'adversarial input',
      description,
      priority: 'low',
    });
    assert.equal(created.json['error'], undefined, JSON.stringify(created.json).slice(0, 500));
    const result = created.json['result'] as {
      structuredContent: { ticket: { description: string } };
    };
    assert.equal(
      result.structuredContent.ticket.description,
      description,
      'no match: nothing masked',
    );
    await stack.operator.policyAdmin.putRedaction({
      orgId: org.orgId,
      role: 'support',
      connectorId: 'zendesk',
      profile: {},
      actorId: 'operator',
    });
  });
});
