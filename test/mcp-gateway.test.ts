import assert from 'node:assert/strict';
import type { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import {
  Client as ModernClient,
  StreamableHTTPClientTransport as ModernTransport,
} from '@modelcontextprotocol/client';
import Ajv from 'ajv';
import { RedactionKind } from '@fortress/proto/policy/v1/policy_pb';
import { adminCall, legacyClient, mcpPost, seedMcpOrg, type McpOrg } from './support/mcp.js';
import { eventually, useStack, type TestStack } from './support/stack.js';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** Every page of tools/list, as a client following nextCursor sees it. */
async function listAll(client: LegacyClient) {
  const tools = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor);
  return tools;
}

describe('MCP Fortress: the gateway with official clients (M1, M2, M5, M6)', () => {
  let stack: TestStack;
  let org: McpOrg;

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await seedMcpOrg(stack);
  });
  after(async () => org?.zendesk.close());

  it('lists only the tools the role may call, with valid names, schemas and annotations (2025-11-25 SDK)', async () => {
    const client = await legacyClient(stack, org.keys.support);
    try {
      assert.equal(client.getServerVersion()?.name, 'fortress');
      assert.deepEqual(client.getServerCapabilities()?.tools, { listChanged: true });
      const tools = await listAll(client);
      assert.deepEqual(
        tools.map((t) => t.name),
        [
          'zendesk__create_ticket',
          'zendesk__get_ticket',
          'zendesk__list_tickets',
          'zendesk__update_ticket',
        ],
        'sorted, and never the denied delete_ticket',
      );
      for (const t of tools) {
        assert.match(t.name, TOOL_NAME);
        assert.equal(t.inputSchema.type, 'object');
        assert.equal(typeof t.description, 'string');
      }
      const list = tools.find((t) => t.name === 'zendesk__list_tickets');
      assert.equal(list?.annotations?.readOnlyHint, true);
      const viewer = await legacyClient(stack, org.keys.viewer);
      assert.deepEqual(
        (await listAll(viewer)).map((t) => t.name),
        ['zendesk__list_tickets'],
      );
      await viewer.close();
    } finally {
      await client.close();
    }
  });

  it('calls a tool through the chain and returns the SaaS result with structured content', async () => {
    const client = await legacyClient(stack, org.keys.support);
    try {
      const result = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } });
      assert.notEqual(result.isError, true);
      const sc = result.structuredContent as { ticket?: { id: number; subject: string } };
      assert.equal(sc.ticket?.id, 1);
      const text = (result.content as Array<{ type: string; text: string }>)[0]?.text ?? '';
      assert.deepEqual(JSON.parse(text), sc, 'the text content is the structured content');
      const rows = await eventually(async () => {
        const all = (await stack.auditRows(org.orgId)).filter(
          (r) => r.resource === 'tool:zendesk__get_ticket',
        );
        return all.some((r) => r.kind === 'outcome') ? all : undefined;
      }, 'the decision and outcome of the call');
      assert.deepEqual(
        rows.map((r) => [r.kind, r.decision, r.action]),
        [
          ['decision', 'allow', 'mcp:tools.call'],
          ['outcome', null, 'mcp:tools.call'],
        ],
      );
    } finally {
      await client.close();
    }
  });

  it("denies a tool the role may not call with the seeds' error, and never reaches the SaaS", async () => {
    const client = await legacyClient(stack, org.keys.viewer);
    try {
      const before = org.zendesk.requests.length;
      for (const name of [
        'zendesk__delete_ticket',
        'zendesk__get_ticket',
        'zendesk__close_ticket',
      ]) {
        await assert.rejects(
          client.callTool({ name, arguments: { id: 1 } }),
          (err: unknown) => {
            assert.ok(err instanceof McpError, String(err));
            assert.equal(err.code, -32602);
            assert.match(err.message, /Policy denied/);
            const data = err.data as { reason?: string; code?: string };
            assert.equal(typeof data.reason, 'string');
            return true;
          },
          name,
        );
      }
      assert.equal(org.zendesk.requests.length, before, 'no call reached Zendesk');
    } finally {
      await client.close();
    }
  });

  it('masks PII in results per role and connector, and audits kinds and counts, never values', async () => {
    await stack.operator.policyAdmin.putRedaction({
      orgId: org.orgId,
      role: 'support',
      connectorId: 'zendesk',
      profile: {
        kinds: [RedactionKind.EMAIL, RedactionKind.PHONE, RedactionKind.SSN, RedactionKind.CARD],
      },
      actorId: 'operator',
    });
    const client = await legacyClient(stack, org.keys.support);
    try {
      const result = await client.callTool({ name: 'zendesk__list_tickets', arguments: {} });
      const text = JSON.stringify(result);
      const pii = org.zendesk.tickets.map((t) => `${t.subject} ${t.description}`).join(' ');
      const emails = pii.match(/[\w.+-]+@[\w-]+\.[\w.]+/g) ?? [];
      assert.ok(emails.length > 0, 'the fake has emails in its tickets');
      for (const e of emails) assert.ok(!text.includes(e), `email ${e} is masked`);
      assert.ok(text.includes('████@████.███'), "in the seeds' mask style");
      // The masked structured content is still valid against the tool's output schema.
      const tool = (await listAll(client)).find((t) => t.name === 'zendesk__list_tickets');
      const validate = new Ajv({ allErrors: true }).compile(tool?.outputSchema ?? {});
      assert.ok(validate(result.structuredContent), JSON.stringify(validate.errors));
      const outcome = await eventually(async () => {
        const rows = await stack.auditRows(org.orgId);
        return rows.find(
          (r) =>
            r.kind === 'outcome' &&
            r.resource === 'tool:zendesk__list_tickets' &&
            JSON.stringify(r.event).includes('redactions'),
        );
      }, 'the outcome with redaction counts');
      const stored = JSON.stringify(outcome.event);
      assert.match(stored, /"kind":"email"/);
      for (const e of emails) assert.ok(!stored.includes(e), 'no value in the audit trail');
    } finally {
      await client.close();
      await stack.operator.policyAdmin.putRedaction({
        orgId: org.orgId,
        role: 'support',
        connectorId: 'zendesk',
        profile: { kinds: [] },
        actorId: 'operator',
      });
    }
  });

  it('speaks 2026-07-28 with the official v2 client: discover, list, call', async () => {
    // Pinned: no fallback to the 2025 handshake, so this can only pass over 2026-07-28.
    const client = new ModernClient(
      { name: 'fortress-test-v2', version: '2.0.0' },
      { versionNegotiation: { mode: { pin: '2026-07-28' } } },
    );
    await client.connect(
      new ModernTransport(new URL(`${stack.edgeUrl}/v1/mcp`), {
        requestInit: { headers: { 'x-api-key': org.keys.support } },
      }),
    );
    try {
      assert.equal(client.getProtocolEra(), 'modern');
      const { tools } = await client.listTools();
      assert.ok(tools.some((t: { name: string }) => t.name === 'zendesk__list_tickets'));
      const result = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 2 } });
      assert.equal((result.structuredContent as { ticket: { id: number } }).ticket.id, 2);
    } finally {
      await client.close();
    }
  });

  it('kills a connector on every replica at once, and re-enables it', async function () {
    this.timeout(60_000);
    const extra = [await stack.startReplica('edge'), await stack.startReplica('edge')];
    const replicas = [stack.edgeUrl, ...extra.map((p) => `http://127.0.0.1:${p.ports.httpPort}`)];
    const call = (url: string) =>
      mcpPost(
        url,
        {
          jsonrpc: '2.0',
          id: 7,
          method: 'tools/call',
          params: {
            name: 'zendesk__get_ticket',
            arguments: { id: 1 },
            _meta: {
              'io.modelcontextprotocol/protocolVersion': '2026-07-28',
              'io.modelcontextprotocol/clientCapabilities': {},
            },
          },
        },
        {
          'x-api-key': org.keys.support,
          'mcp-protocol-version': '2026-07-28',
          'mcp-method': 'tools/call',
          'mcp-name': 'zendesk__get_ticket',
        },
      );
    for (const url of replicas) assert.equal((await call(url)).json['error'], undefined);
    const killed = await adminCall(stack, org.owner, 'POST', '/connectors/zendesk/kill', {
      reason: 'credential leak drill',
    });
    assert.equal(
      (killed.json['connector'] as { status: string }).status,
      'CONNECTOR_STATUS_KILLED',
    );
    for (const url of replicas) {
      const r = await call(url);
      const err = r.json['error'] as { code: number; data: { code: string } };
      assert.deepEqual([err.code, err.data.code], [-32602, 'connector_killed'], url);
    }
    const listed = await mcpPost(
      stack.edgeUrl,
      {
        jsonrpc: '2.0',
        id: 8,
        method: 'tools/list',
        params: {
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      {
        'x-api-key': org.keys.support,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/list',
      },
    );
    assert.deepEqual(
      (listed.json['result'] as { tools: unknown[] }).tools,
      [],
      'a killed connector shows nothing',
    );
    await adminCall(stack, org.owner, 'POST', '/connectors/zendesk/enable');
    for (const url of replicas) assert.equal((await call(url)).json['error'], undefined);
    await Promise.all(extra.map((p) => p.stop()));
  });

  it('marks a connector OFFLINE on an outage (connector.error) and ACTIVE again on the next success', async () => {
    const client = await legacyClient(stack, org.keys.support);
    try {
      org.zendesk.setDown('503');
      const failed = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } });
      assert.equal(failed.isError, true);
      const offline = await eventually(async () => {
        const r = await adminCall(stack, org.owner, 'GET', '/connectors/zendesk');
        const c = r.json['connector'] as { status: string };
        return c.status === 'CONNECTOR_STATUS_OFFLINE' ? c : undefined;
      }, 'the connector OFFLINE');
      assert.ok(offline);
      await eventually(async () => {
        const rows = await stack.auditRows(org.orgId);
        return rows.find(
          (r) => r.kind === 'notification' && JSON.stringify(r.event).includes('connector.error'),
        );
      }, 'the connector.error notification');
      org.zendesk.setDown(false);
      const ok = await client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 1 } });
      assert.notEqual(ok.isError, true);
      await eventually(async () => {
        const r = await adminCall(stack, org.owner, 'GET', '/connectors/zendesk');
        return (r.json['connector'] as { status: string }).status === 'CONNECTOR_STATUS_ACTIVE'
          ? true
          : undefined;
      }, 'the connector ACTIVE again');
    } finally {
      org.zendesk.setDown(false);
      await client.close();
    }
  });

  it("refuses arguments that violate the tool's schema with -32602, audited, with no SaaS call", async () => {
    const client = await legacyClient(stack, org.keys.support);
    try {
      const before = org.zendesk.requests.length;
      await assert.rejects(
        client.callTool({ name: 'zendesk__get_ticket', arguments: { id: 'not a number' } }),
        (err: unknown) =>
          err instanceof McpError && err.code === -32602 && /input schema/.test(err.message),
      );
      assert.equal(org.zendesk.requests.length, before);
      await eventually(async () => {
        const rows = await stack.auditRows(org.orgId);
        return rows.find(
          (r) => r.kind === 'outcome' && JSON.stringify(r.event).includes('invalid_arguments'),
        );
      }, 'the refused call audited');
    } finally {
      await client.close();
    }
  });
});
