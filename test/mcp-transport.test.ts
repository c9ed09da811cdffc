import assert from 'node:assert/strict';
import { mcpPost, seedMcpOrg, type McpOrg } from './support/mcp.js';
import { eventually, useStack, type TestStack } from './support/stack.js';

const MODERN = '2026-07-28';
const meta = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientCapabilities': {},
};
const modernHeaders = (key: string, method: string, name?: string) => ({
  'x-api-key': key,
  'mcp-protocol-version': MODERN,
  'mcp-method': method,
  ...(name ? { 'mcp-name': name } : {}),
});

describe('MCP Fortress: the Streamable HTTP transport rules, raw (both eras)', () => {
  let stack: TestStack;
  let org: McpOrg;
  let url: string;
  let key: string;

  /** Opens a 2025-era session; its id. */
  const initialize = async (apiKey = key) => {
    const r = await mcpPost(
      url,
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-11-25',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      },
      { 'x-api-key': apiKey },
    );
    assert.equal(r.status, 200);
    assert.equal((r.json['result'] as { protocolVersion: string }).protocolVersion, '2025-11-25');
    const id = r.headers.get('mcp-session-id');
    assert.ok(id && /^[\x21-\x7e]+$/.test(id) && id.length >= 32, 'a long random visible-ASCII id');
    return id;
  };
  const legacy = (sessionId: string | undefined, body: unknown, apiKey = key) =>
    mcpPost(url, body, {
      'x-api-key': apiKey,
      'mcp-protocol-version': '2025-11-25',
      ...(sessionId ? { 'mcp-session-id': sessionId } : {}),
    });

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await seedMcpOrg(stack);
    url = stack.edgeUrl;
    key = org.keys.support;
  });
  after(async () => org?.zendesk.close());

  it('2025 era: a session is required (400), unknown (404), bound to its subject (404 for another key), and ends with DELETE', async () => {
    const session = await initialize();
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    assert.equal((await legacy(session, list)).status, 200);
    const missing = await legacy(undefined, list);
    assert.equal(missing.status, 400);
    assert.equal((missing.json['error'] as { code: number }).code, -32000);
    assert.equal((await legacy('no-such-session-0123456789', list)).status, 404);
    assert.equal(
      (await legacy(session, list, org.keys.viewer)).status,
      404,
      'a session id is not a credential: another key cannot use it',
    );
    const notification = await legacy(session, {
      jsonrpc: '2.0',
      method: 'notifications/initialized',
    });
    assert.equal(notification.status, 202);
    const del = await fetch(`${url}/v1/mcp`, {
      method: 'DELETE',
      headers: { 'x-api-key': key, 'mcp-session-id': session },
    });
    assert.equal(del.status, 200);
    assert.equal((await legacy(session, list)).status, 404, 'gone after DELETE');
  });

  it('2025 era: a session opened on one replica works on another', async function () {
    this.timeout(30_000);
    const other = await stack.startReplica('edge');
    const session = await initialize();
    const r = await mcpPost(
      `http://127.0.0.1:${other.ports.httpPort}`,
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { 'x-api-key': key, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    );
    assert.equal(r.status, 200);
    assert.ok(Array.isArray((r.json['result'] as { tools: unknown[] }).tools));
    await other.stop();
  });

  it('2025 era: the GET stream tells the client tools/list_changed when the policy changes', async function () {
    this.timeout(30_000);
    const session = await initialize();
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/mcp`, {
      headers: { 'x-api-key': key, 'mcp-session-id': session, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await stack.operator.policyAdmin.putRole({
      orgId: org.orgId,
      actorId: 'operator',
      role: { name: 'observer', grants: [] },
    });
    let seen = '';
    while (!seen.includes('notifications/tools/list_changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += Buffer.from(value).toString('utf8');
    }
    controller.abort();
    assert.match(seen, /"method":"notifications\/tools\/list_changed"/);
  });

  it('answers JSON-RPC errors: parse (-32700), unknown method (-32601), bad params (-32602)', async () => {
    const session = await initialize();
    const parse = await mcpPost(url, '{"jsonrpc":"2.0",', {
      'x-api-key': key,
      'mcp-session-id': session,
    });
    assert.deepEqual([parse.status, (parse.json['error'] as { code: number }).code], [400, -32700]);
    const refused = await eventually(async () => {
      const rows = await stack.auditRows(org.orgId);
      return rows.find((r) => r.request_id === parse.headers.get('x-fortress-request-id'));
    }, 'the malformed request audited');
    assert.deepEqual(
      [refused.kind, refused.decision, refused.reasons.map((r) => r.code)],
      ['decision', 'deny', ['bad_request']],
    );
    const unknown = await legacy(session, { jsonrpc: '2.0', id: 2, method: 'resources/list' });
    assert.equal((unknown.json['error'] as { code: number }).code, -32601);
    const noName = await legacy(session, {
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: {},
    });
    assert.equal((noName.json['error'] as { code: number }).code, -32602);
    const badArgs = await legacy(session, {
      jsonrpc: '2.0',
      id: 4,
      method: 'tools/call',
      params: { name: 'zendesk__get_ticket', arguments: 'x' },
    });
    assert.equal((badArgs.json['error'] as { code: number }).code, -32602);
    const before = org.zendesk.requests.length;
    const oversized = await legacy(session, {
      jsonrpc: '2.0',
      id: 6,
      method: 'tools/call',
      params: {
        name: 'zendesk__create_ticket',
        arguments: { subject: 'x', description: 'y'.repeat(300 * 1024), priority: 'low' },
      },
    });
    assert.equal((oversized.json['error'] as { code: number }).code, -32602, 'oversized arguments');
    assert.equal(org.zendesk.requests.length, before, 'nothing reached Zendesk');
    const badCursor = await legacy(session, {
      jsonrpc: '2.0',
      id: 5,
      method: 'tools/list',
      params: { cursor: 'bm90IGEgY3Vyc29y' },
    });
    assert.equal((badCursor.json['error'] as { code: number }).code, -32602);
  });

  it('refuses a foreign Origin (403), a non-JSON body type (415), a missing key (401) and a bad key (401)', async () => {
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } };
    const evil = await mcpPost(url, body, {
      ...modernHeaders(key, 'tools/list'),
      origin: 'https://evil.example',
    });
    assert.equal(evil.status, 403);
    const res = await fetch(`${url}/v1/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', ...modernHeaders(key, 'tools/list') },
      body: JSON.stringify(body),
    });
    assert.equal(res.status, 415);
    const noKey: Record<string, string> = modernHeaders(key, 'tools/list');
    delete noKey['x-api-key'];
    assert.equal((await mcpPost(url, body, noKey)).status, 401);
    assert.equal(
      (await mcpPost(url, body, modernHeaders('fk_live_not_a_real_key_0000000000', 'tools/list')))
        .status,
      401,
    );
  });

  it('2026-07-28: headers must mirror the body (-32020 on 400), results carry resultType, lists ttlMs and cacheScope private', async () => {
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: meta } };
    const ok = await mcpPost(url, list, modernHeaders(key, 'tools/list'));
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('mcp-session-id'), null, 'no sessions in the stateless era');
    const result = ok.json['result'] as Record<string, unknown>;
    assert.deepEqual(
      [result['resultType'], result['cacheScope'], typeof result['ttlMs']],
      ['complete', 'private', 'number'],
    );

    const mismatch = await mcpPost(url, list, modernHeaders(key, 'tools/call'));
    assert.deepEqual(
      [mismatch.status, (mismatch.json['error'] as { code: number }).code],
      [400, -32020],
    );
    const noMethod: Record<string, string> = modernHeaders(key, 'tools/list');
    delete noMethod['mcp-method'];
    const missing = await mcpPost(url, list, noMethod);
    assert.deepEqual(
      [missing.status, (missing.json['error'] as { code: number }).code],
      [400, -32020],
    );
    const call = {
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'zendesk__get_ticket', arguments: { id: 1 }, _meta: meta },
    };
    const wrongName = await mcpPost(
      url,
      call,
      modernHeaders(key, 'tools/call', 'zendesk__list_tickets'),
    );
    assert.deepEqual(
      [wrongName.status, (wrongName.json['error'] as { code: number }).code],
      [400, -32020],
    );
    const called = await mcpPost(
      url,
      call,
      modernHeaders(key, 'tools/call', 'zendesk__get_ticket'),
    );
    assert.equal((called.json['result'] as { resultType: string }).resultType, 'complete');

    const discover = await mcpPost(
      url,
      { jsonrpc: '2.0', id: 3, method: 'server/discover', params: { _meta: meta } },
      modernHeaders(key, 'server/discover'),
    );
    const d = discover.json['result'] as { supportedVersions: string[]; capabilities: unknown };
    assert.ok(d.supportedVersions.includes(MODERN) && d.supportedVersions.includes('2025-11-25'));
    assert.deepEqual(d.capabilities, { tools: { listChanged: true } });

    const future = await mcpPost(
      url,
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/list',
        params: { _meta: { ...meta, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      { ...modernHeaders(key, 'tools/list'), 'mcp-protocol-version': '2099-01-01' },
    );
    assert.equal(future.status, 400);
    assert.equal((future.json['error'] as { code: number }).code, -32022);

    const notification = await mcpPost(
      url,
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, _meta: meta } },
      modernHeaders(key, 'notifications/cancelled'),
    );
    assert.equal(notification.status, 202);
  });

  it('answers a 2025-03-26 batch with one array, and refuses batches in later revisions', async () => {
    const init = await mcpPost(
      url,
      {
        jsonrpc: '2.0',
        id: 0,
        method: 'initialize',
        params: {
          protocolVersion: '2025-03-26',
          capabilities: {},
          clientInfo: { name: 'old', version: '1' },
        },
      },
      { 'x-api-key': key },
    );
    const old = init.headers.get('mcp-session-id') ?? '';
    const batch = [
      { jsonrpc: '2.0', id: 'a', method: 'ping' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      {
        jsonrpc: '2.0',
        id: 'b',
        method: 'tools/call',
        params: { name: 'zendesk__get_ticket', arguments: { id: 1 } },
      },
      {
        jsonrpc: '2.0',
        id: 'c',
        method: 'tools/call',
        params: { name: 'zendesk__delete_ticket', arguments: { id: 1 } },
      },
    ];
    const r = await mcpPost(url, JSON.stringify(batch), {
      'x-api-key': key,
      'mcp-session-id': old,
      'mcp-protocol-version': '2025-03-26',
    });
    assert.equal(r.status, 200);
    const answers = r.json as unknown as Array<{
      id: string;
      result?: unknown;
      error?: { code: number };
    }>;
    assert.deepEqual(
      answers.map((a) => a.id),
      ['a', 'b', 'c'],
      'one answer per request, none for the notification',
    );
    assert.ok(answers[1]?.result);
    assert.equal(answers[2]?.error?.code, -32602, 'each request decided on its own');

    const modern = await initialize();
    const refused = await mcpPost(url, JSON.stringify(batch.slice(0, 1)), {
      'x-api-key': key,
      'mcp-session-id': modern,
      'mcp-protocol-version': '2025-11-25',
    });
    assert.deepEqual(
      [refused.status, (refused.json['error'] as { code: number }).code],
      [400, -32600],
    );
  });

  it('pages tools/list with an opaque cursor in a deterministic order', async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    const session = await initialize();
    do {
      const r = await legacy(session, {
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/list',
        params: cursor ? { cursor } : {},
      });
      const page = r.json['result'] as { tools: Array<{ name: string }>; nextCursor?: string };
      all.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(all, [...all].sort());
    assert.equal(new Set(all).size, all.length);
  });
});
