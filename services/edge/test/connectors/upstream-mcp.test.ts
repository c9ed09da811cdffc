import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startFakeMcpUpstream, type FakeMcpUpstream } from '@fortress/sandbox/mcp-upstream/server';
import { FAKE_TOOL_COUNT } from '@fortress/sandbox/mcp-upstream/tools';
import {
  callUpstreamTool,
  createUpstreamMcpPool,
  FEDERATED_NAME,
  listUpstreamTools,
  testUpstream,
  UpstreamUnavailableError,
  type CredentialMaterial,
  type ToolOutcome,
  type UpstreamMcpConfig,
  type UpstreamMcpPool,
} from '../../src/connectors/upstream-mcp.js';

const bearer = (token: string): CredentialMaterial => ({
  kind: 'api_key',
  secret: Buffer.from(token, 'utf8'),
  fields: {},
});

const newToken = () => `up_${randomBytes(12).toString('hex')}`;

/** Runs `fn` with a fresh signal that no test aborts. */
const live = () => new AbortController().signal;

describe('upstream mcp federation', () => {
  let pool: UpstreamMcpPool;
  let fake: FakeMcpUpstream | undefined;
  let token: string;

  beforeEach(() => {
    pool = createUpstreamMcpPool();
    token = newToken();
  });

  afterEach(async () => {
    await pool.close();
    await fake?.close();
    fake = undefined;
  });

  const configOf = (upstream: FakeMcpUpstream, settings: Record<string, string> = {}) =>
    ({ id: 'docs', url: upstream.url, settings, orgId: 'org_a' }) satisfies UpstreamMcpConfig;

  const call = (
    upstream: FakeMcpUpstream,
    upstreamName: string,
    args: Record<string, unknown> = {},
    credential = bearer(token),
    signal = live(),
  ): Promise<ToolOutcome> =>
    callUpstreamTool({ config: configOf(upstream), credential, upstreamName, args, signal, pool });

  const list = (upstream: FakeMcpUpstream, credential = bearer(token)) =>
    listUpstreamTools({ config: configOf(upstream), credential, signal: live(), pool });

  const upstreams = [
    { kind: 'v2', name: 'a v2 SDK server speaking both eras' },
    { kind: 'v2-2025', name: 'a v2 SDK server speaking the 2025 era only' },
    { kind: 'v1', name: 'a v1 SDK server with sessions' },
    { kind: 'v1-stateless', name: 'a stateless v1 SDK server' },
  ] as const;

  for (const { kind, name } of upstreams) {
    describe(`against ${name}`, () => {
      beforeEach(async () => {
        fake = await startFakeMcpUpstream({ token, kind, pageSize: 4 });
      });

      it('follows nextCursor through every page and prefixes each tool', async () => {
        const tools = await list(fake!);
        assert.equal(tools.length, FAKE_TOOL_COUNT);
        assert.equal(fake!.controls.requests.filter((r) => r.rpcMethod === 'tools/list').length, 3);
        for (const tool of tools) assert.match(tool.name, FEDERATED_NAME);
        assert.equal(new Set(tools.map((t) => t.name)).size, tools.length);
        const search = tools.find((t) => t.upstreamName === 'search_docs');
        assert.equal(search?.name, 'docs__search_docs');
        assert.equal(search.title, 'Search documents');
        assert.equal(search.description, 'Full-text search over the knowledge base.');
        assert.deepEqual(search.annotations, { readOnlyHint: true });
        assert.equal(search.inputSchema['type'], 'object');
        assert.deepEqual(Object.keys(search.inputSchema['properties'] as object), [
          'query',
          'limit',
        ]);
        const stats = tools.find((t) => t.upstreamName === 'doc_stats');
        assert.equal(stats?.outputSchema?.['type'], 'object');
      });

      it('sanitises dotted, colliding and too-long names deterministically', async () => {
        const tools = await list(fake!);
        const byUpstream = new Map(tools.map((t) => [t.upstreamName, t.name]));
        // docs_export needed no change and keeps the plain name; docs.export gets a hash suffix.
        assert.equal(byUpstream.get('docs_export'), 'docs__docs_export');
        assert.match(byUpstream.get('docs.export') ?? '', /^docs__docs_export_[0-9a-f]{8}$/);
        const long = byUpstream.get(
          'summarise_every_document_in_the_knowledge_base_and_return_the_highlights',
        );
        assert.equal(long?.length, 64);
        assert.match(long, /^docs__summarise_every_.*_[0-9a-f]{8}$/);
      });

      it('returns content and structuredContent of a result', async () => {
        const outcome = await call(fake!, 'doc_stats');
        assert.equal(outcome.kind, 'result');
        assert.deepEqual(outcome.structuredContent, {
          total: 3,
          byTag: { security: 2, people: 1, ops: 1 },
        });
        assert.equal(outcome.isError, false);
        assert.deepEqual(outcome.content, [
          { type: 'text', text: JSON.stringify(outcome.structuredContent) },
        ]);
      });

      it('passes an isError result through as a result', async () => {
        const outcome = await call(fake!, 'delete_doc', { id: 'doc-1' });
        assert.deepEqual(outcome, {
          kind: 'result',
          content: [
            {
              type: 'text',
              text: 'permission denied: cannot delete "doc-1", the knowledge base is read-only',
            },
          ],
          isError: true,
        });
        assert.equal(fake!.controls.toolCalls('delete_doc'), 1);
      });

      it('passes arguments through unchanged', async () => {
        const outcome = await call(fake!, 'echo', { text: 'héllo', n: 3, nested: { a: [1] } });
        assert.equal(outcome.kind, 'result');
        assert.deepEqual(outcome.content, [
          { type: 'text', text: JSON.stringify({ text: 'héllo', n: 3, nested: { a: [1] } }) },
        ]);
      });

      it('reports an unknown tool the way the upstream answers it', async () => {
        const outcome = await call(fake!, 'no_such_tool');
        // v2 servers answer with a JSON-RPC error (no usable answer: unavailable); v1 servers
        // answer with an isError result, which passes through like any result.
        assert.deepEqual(
          outcome,
          kind.startsWith('v1')
            ? {
                kind: 'result',
                content: [{ type: 'text', text: 'MCP error -32602: Tool no_such_tool not found' }],
                isError: true,
              }
            : { kind: 'unavailable', reason: 'upstream answered json-rpc error -32602' },
        );
      });

      it('reports unavailable without reaching any tool when the token is wrong', async () => {
        const outcome = await call(fake!, 'get_doc', { id: 'doc-1' }, bearer('wrong-token'));
        assert.deepEqual(outcome, {
          kind: 'unavailable',
          reason: 'upstream rejected the credential (http 401)',
        });
        assert.equal(fake!.controls.toolCalls(), 0);
      });

      it('reports unavailable while the upstream is down and works again once it is back', async () => {
        assert.equal((await call(fake!, 'get_doc', { id: 'doc-1' })).kind, 'result');
        await fake!.controls.stop();
        const down = await call(fake!, 'get_doc', { id: 'doc-1' });
        assert.equal(down.kind, 'unavailable');
        assert.match(
          down.reason,
          /^upstream unreachable \((econnrefused|econnreset|und_err_socket)\)$/,
        );
        await fake!.controls.start();
        const back = await call(fake!, 'get_doc', { id: 'doc-2' });
        assert.equal(back.kind, 'result');
        assert.equal(fake!.controls.toolCalls('get_doc'), 2);
      });

      it('reuses one connection instead of repeating the handshake per call', async () => {
        for (const id of ['doc-1', 'doc-2', 'doc-3']) await call(fake!, 'get_doc', { id });
        const handshakes = fake!.controls.requests.filter(
          (r) => r.rpcMethod === 'server/discover' || r.rpcMethod === 'initialize',
        );
        assert.equal(handshakes.length, kind === 'v2' ? 1 : 2); // 2025 era: the probe, then initialize
        assert.equal(pool.size(), 1);
      });

      it('reports unavailable and closes the connection when the signal aborts mid-call', async () => {
        const controller = new AbortController();
        const pending = call(fake!, 'hang', {}, bearer(token), controller.signal);
        await fake!.controls.nextCall('hang');
        controller.abort(new DOMException('deadline passed', 'TimeoutError'));
        assert.deepEqual(await pending, { kind: 'unavailable', reason: 'upstream timed out' });
        assert.equal(pool.size(), 0);
        assert.equal((await call(fake!, 'get_doc', { id: 'doc-1' })).kind, 'result');
      });

      it('opens a new connection with the new credential when the credential changes', async () => {
        assert.equal((await call(fake!, 'get_doc', { id: 'doc-1' })).kind, 'result');
        const rotated = newToken();
        fake!.controls.setToken(rotated);
        const outcome = await call(fake!, 'get_doc', { id: 'doc-1' }, bearer(rotated));
        assert.equal(outcome.kind, 'result');
        const last = fake!.controls.requests.at(-1);
        assert.equal(last?.headers['authorization'], `Bearer ${rotated}`);
        assert.equal(pool.size(), 1);
      });

      it('tests a connection without touching the cache', async () => {
        const ok = await testUpstream({
          config: configOf(fake!),
          credential: bearer(token),
          signal: live(),
          pool,
        });
        assert.deepEqual(ok, { ok: true, toolCount: FAKE_TOOL_COUNT });
        const wrong = await testUpstream({
          config: configOf(fake!),
          credential: bearer('nope'),
          signal: live(),
          pool,
        });
        assert.deepEqual(wrong, {
          ok: false,
          reason: 'upstream rejected the credential (http 401)',
        });
        assert.equal(pool.size(), 0);
      });
    });
  }

  describe('connection cache', () => {
    beforeEach(async () => {
      fake = await startFakeMcpUpstream({ token, kind: 'v2' });
    });

    const discoveries = () =>
      fake!.controls.requests.filter((r) => r.rpcMethod === 'server/discover').length;

    it('shares one handshake between concurrent first calls', async () => {
      const outcomes = await Promise.all(
        ['doc-1', 'doc-2', 'doc-3'].map((id) => call(fake!, 'get_doc', { id })),
      );
      assert.deepEqual(
        outcomes.map((o) => o.kind),
        ['result', 'result', 'result'],
      );
      assert.equal(discoveries(), 1);
    });

    it('keeps a connection per org even for the same connector id and url', async () => {
      for (const orgId of ['org_a', 'org_b']) {
        const outcome = await callUpstreamTool({
          config: { ...configOf(fake!), orgId },
          credential: bearer(token),
          upstreamName: 'get_doc',
          args: { id: 'doc-1' },
          signal: live(),
          pool,
        });
        assert.equal(outcome.kind, 'result');
      }
      assert.equal(pool.size(), 2);
      assert.equal(discoveries(), 2);
    });

    it('closes the least recently used connection beyond its bound', async () => {
      const small = createUpstreamMcpPool({ maxConnections: 2 });
      try {
        for (const id of ['a', 'b', 'c']) {
          await callUpstreamTool({
            config: { ...configOf(fake!), id },
            credential: bearer(token),
            upstreamName: 'get_doc',
            args: { id: 'doc-1' },
            signal: live(),
            pool: small,
          });
        }
        assert.equal(small.size(), 2);
      } finally {
        await small.close();
      }
    });
  });

  describe('protocol eras', () => {
    it('speaks 2026-07-28 to an upstream that offers it, without a session', async () => {
      fake = await startFakeMcpUpstream({ token, kind: 'v2' });
      await call(fake, 'get_doc', { id: 'doc-1' });
      const posted = fake.controls.requests.filter((r) => r.httpMethod === 'POST');
      assert.deepEqual(
        posted.map((r) => [
          r.rpcMethod,
          r.headers['mcp-protocol-version'],
          r.headers['mcp-method'],
        ]),
        [
          ['server/discover', '2026-07-28', 'server/discover'],
          ['tools/call', '2026-07-28', 'tools/call'],
        ],
      );
      assert.equal(posted[1]?.headers['mcp-name'], 'get_doc');
      assert.ok(posted.every((r) => r.headers['mcp-session-id'] === undefined));
    });

    it('falls back to the 2025-11-25 handshake and a session for a 2025-era upstream', async () => {
      fake = await startFakeMcpUpstream({ token, kind: 'v2-2025' });
      await call(fake, 'get_doc', { id: 'doc-1' });
      const posted = fake.controls.requests.filter((r) => r.httpMethod === 'POST');
      assert.deepEqual(
        posted.map((r) => r.rpcMethod),
        ['server/discover', 'initialize', 'notifications/initialized', 'tools/call'],
      );
      assert.match(posted[1]?.body ?? '', /"protocolVersion":"2025-11-25"/);
      assert.equal(posted[3]?.headers['mcp-protocol-version'], '2025-11-25');
      assert.ok(posted[3]?.headers['mcp-session-id']);
      assert.equal(fake.controls.sessionCount(), 1);
    });
  });

  for (const kind of ['v2-2025', 'v1'] as const) {
    describe(`expired sessions of a ${kind} upstream`, () => {
      beforeEach(async () => {
        fake = await startFakeMcpUpstream({ token, kind });
      });

      it('recovers transparently when the upstream restarts and forgets the session', async () => {
        assert.equal((await call(fake!, 'get_doc', { id: 'doc-1' })).kind, 'result');
        await fake!.controls.stop();
        await fake!.controls.start();
        const outcome = await call(fake!, 'get_doc', { id: 'doc-2' });
        assert.equal(outcome.kind, 'result', JSON.stringify(outcome));
        assert.equal(fake!.controls.toolCalls('get_doc'), 2); // the refused request ran no tool
        const statuses = fake!.controls.requests.map((r) => r.rpcMethod);
        assert.equal(statuses.filter((m) => m === 'initialize').length, 2);
      });

      it('recovers transparently when the upstream expires the session while up', async () => {
        await call(fake!, 'get_doc', { id: 'doc-1' });
        await fake!.controls.expireSessions();
        const tools = await list(fake!);
        assert.equal(tools.length, FAKE_TOOL_COUNT);
        assert.equal(fake!.controls.sessionCount(), 1);
      });
    });
  }

  describe('credential injection', () => {
    beforeEach(async () => {
      fake = await startFakeMcpUpstream({ token, kind: 'v2' });
    });

    it('sends the secret in a configured header without a scheme', async () => {
      const outcome = await callUpstreamTool({
        config: configOf(fake!, { authHeader: 'X-API-Key' }),
        credential: bearer(token),
        upstreamName: 'get_doc',
        args: { id: 'doc-1' },
        signal: live(),
        pool,
      });
      // The fake wants a bearer token, so it refuses; what it received is the point.
      assert.equal(outcome.kind, 'unavailable');
      const seen = fake!.controls.requests[0]?.headers;
      assert.equal(seen?.['x-api-key'], token);
      assert.equal(seen?.['authorization'], undefined);
    });

    it('sends username and password as basic auth', async () => {
      await testUpstream({
        config: configOf(fake!),
        credential: {
          kind: 'username_password',
          secret: Buffer.from('s3cret pass'),
          fields: { username: Buffer.from('svc-fortress') },
        },
        signal: live(),
        pool,
      });
      assert.equal(
        fake!.controls.requests[0]?.headers['authorization'],
        `Basic ${Buffer.from('svc-fortress:s3cret pass').toString('base64')}`,
      );
    });

    const refused: {
      name: string;
      settings: Record<string, string>;
      credential: CredentialMaterial;
      reason: string;
    }[] = [
      {
        name: 'app credentials',
        settings: {},
        credential: { kind: 'app', secret: Buffer.from('pem'), fields: {} },
        reason: 'credential kind "app" is not supported for upstream mcp servers',
      },
      {
        name: 'a reserved header name',
        settings: { authHeader: 'Mcp-Session-Id' },
        credential: bearer('x'),
        reason: 'setting authHeader "Mcp-Session-Id" is not a usable header name',
      },
      {
        name: 'a username_password credential without a username',
        settings: {},
        credential: { kind: 'username_password', secret: Buffer.from('pw'), fields: {} },
        reason: 'the credential has no username',
      },
      {
        name: 'a secret with a line break',
        settings: {},
        credential: bearer('abc\r\nX-Evil: 1'),
        reason: 'the credential contains a line break',
      },
    ];
    for (const { name, settings, credential, reason } of refused) {
      it(`sends nothing upstream for ${name}`, async () => {
        const outcome = await callUpstreamTool({
          config: configOf(fake!, settings),
          credential,
          upstreamName: 'get_doc',
          args: { id: 'doc-1' },
          signal: live(),
          pool,
        });
        assert.deepEqual(outcome, { kind: 'unavailable', reason });
        assert.equal(fake!.controls.requests.length, 0);
      });
    }

    it('sends only the injected credential, never the client token', async () => {
      const clientToken = `fk_live_${randomBytes(20).toString('hex')}`;
      // What the AI client presented to Fortress is not an input here at all; the upstream
      // must see the connector's credential and nothing that resembles the client's.
      await list(fake!);
      await call(fake!, 'search_docs', { query: 'keys' });
      await call(fake!, 'doc_stats');
      const seen = fake!.controls.requests;
      assert.ok(seen.length >= 4);
      for (const request of seen) {
        assert.equal(request.headers['authorization'], `Bearer ${token}`);
        assert.equal(request.headers['x-api-key'], undefined);
        assert.ok(!JSON.stringify(request).includes(clientToken));
        assert.ok(!JSON.stringify(request).includes('fk_live_'));
      }
    });
  });

  describe('secrets in outcomes', () => {
    it('never puts the secret into a reason or error, whatever fails', async () => {
      const canary = `canary_${randomBytes(16).toString('hex')}`;
      const credential = bearer(canary);
      fake = await startFakeMcpUpstream({ token: 'another-token', kind: 'v2-2025' });
      const outcomes: unknown[] = [];
      const collect = async (config: UpstreamMcpConfig) => {
        outcomes.push(
          await callUpstreamTool({
            config,
            credential,
            upstreamName: 'get_doc',
            args: { id: canary },
            signal: live(),
            pool,
          }),
        );
        outcomes.push(await testUpstream({ config, credential, signal: live(), pool }));
        try {
          await listUpstreamTools({ config, credential, signal: live(), pool });
        } catch (error) {
          assert.ok(error instanceof UpstreamUnavailableError);
          outcomes.push({ message: error.message, reason: error.reason, stack: error.stack });
        }
      };
      await collect(configOf(fake)); // 401
      await collect(configOf(fake, { authHeader: canary })); // header name made of the canary
      await collect(configOf(fake, { authScheme: `${canary} x` })); // bad scheme
      await collect({
        ...configOf(fake),
        url: `${fake.url}?k=${canary}`.replace('/mcp?', '/elsewhere?'),
      }); // 404
      await fake.controls.stop();
      await collect(configOf(fake)); // unreachable
      await collect({ ...configOf(fake), url: `http://${canary}:x@127.0.0.1:1/mcp` }); // credentials in url
      assert.equal(outcomes.length, 18);
      const text = JSON.stringify(outcomes);
      assert.ok(!text.includes(canary), text);
      assert.ok(!text.includes(Buffer.from(canary).toString('base64')), text);
    });
  });
});
