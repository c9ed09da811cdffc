import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { startTestIdp, TEST_IDP_AUDIENCE, type TestIdp } from '@fortress/harness/idp/test-idp';
import { startFakeZendesk, type FakeZendesk } from '@fortress/sandbox/saas/zendesk';
import { addZendeskTool, mcpPost } from './support/mcp.js';
import { eventually, useStack, type TestStack } from './support/stack.js';

describe('MCP Fortress for a Bank org: the org key plus an IdP token (oidc-provider)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let idp: TestIdp;
  let zendesk: FakeZendesk;
  let orgId: string;
  let key: string;

  before(async function () {
    this.timeout(180_000);
    [stack, idp] = await Promise.all([useStack(), startTestIdp()]);
    zendesk = await startFakeZendesk();
    const org = await stack.seed({ tier: Tier.BANK });
    orgId = org.orgId;
    await stack.operator.identityAdmin.setIdpConfig({
      orgId,
      config: {
        issuer: idp.issuer,
        audiences: [TEST_IDP_AUDIENCE],
        jwksUri: idp.jwksUri,
        userIdClaim: 'oid',
        groupsClaim: 'groups',
        groupRoles: [{ group: 'g-support', roles: ['support'] }],
      },
    });
    // The role comes from the IdP group, not from the key.
    key = await addZendeskTool(stack, orgId, zendesk, 'support');
  });
  after(async () => {
    await zendesk?.close();
    await idp?.stop();
  });

  it('serves an official client that sends the key and the IdP token, and audits the user', async () => {
    const token = await idp.mintToken({
      oid: 'oid-rita',
      email: 'rita@bank.example',
      groups: ['g-support'],
    });
    const client = new Client({ name: 'bank-client', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${stack.edgeUrl}/v1/mcp`), {
        requestInit: { headers: { 'x-api-key': key, authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(
        tools.map((t) => t.name),
        ['zendesk__get_ticket'],
      );
      const r = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } });
      assert.notEqual(r.isError, true);
      for (const req of zendesk.requests)
        assert.ok(
          !JSON.stringify(req.headers).includes(token),
          'the IdP token never goes upstream',
        );
    } finally {
      await client.close();
    }
    const row = await eventually(async () => {
      const rows = await stack.auditRows(orgId);
      return rows.find((x) => x.kind === 'decision' && x.resource === 'tool:zendesk__get_ticket');
    }, 'the audited call');
    assert.match(JSON.stringify(row.event), /oid-rita/);
  });

  it('refuses the key alone (401), and a user whose groups give no role sees no tools', async () => {
    const body = {
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: '2025-11-25',
        capabilities: {},
        clientInfo: { name: 'x', version: '1' },
      },
    };
    const keyOnly = await mcpPost(stack.edgeUrl, body, { 'x-api-key': key });
    assert.equal(keyOnly.status, 401);
    const outsider = await idp.mintToken({
      oid: 'oid-otto',
      email: 'otto@bank.example',
      groups: ['g-sales'],
    });
    const init = await mcpPost(stack.edgeUrl, body, {
      'x-api-key': key,
      authorization: `Bearer ${outsider}`,
    });
    const session = init.headers.get('mcp-session-id') ?? '';
    const list = await mcpPost(
      stack.edgeUrl,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { 'x-api-key': key, authorization: `Bearer ${outsider}`, 'mcp-session-id': session },
    );
    assert.deepEqual((list.json['result'] as { tools: unknown[] }).tools, []);
  });
});
