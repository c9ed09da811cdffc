import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import {
  ALLOWED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

/**
 * Claude Haiku 4.5's list prices in micro-USD per token (= USD per million tokens), written
 * out here rather than read from the price book, so a wrong book or a wrong formula fails.
 */
const HAIKU = { input: 1, output: 5, cacheWrite5m: 1.25, cacheWrite1h: 2, cacheRead: 0.1 };

interface WireUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number | null;
    ephemeral_1h_input_tokens?: number | null;
  } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}

/** The web search fee, $10 per 1,000 searches, in micro-USD (written out, like HAIKU). */
const WEB_SEARCH_FEE = 10_000;

/** What a response's usage costs at Haiku 4.5's prices, rounded up to a micro-USD. */
function haikuCost(u: WireUsage): number {
  const split5m = u.cache_creation?.ephemeral_5m_input_tokens ?? 0;
  const split1h = u.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const unsplit = (u.cache_creation_input_tokens ?? 0) - split5m - split1h;
  const exact =
    (u.input_tokens ?? 0) * HAIKU.input +
    (u.output_tokens ?? 0) * HAIKU.output +
    (split5m + unsplit) * HAIKU.cacheWrite5m +
    split1h * HAIKU.cacheWrite1h +
    (u.cache_read_input_tokens ?? 0) * HAIKU.cacheRead;
  return Math.ceil(Math.round(exact * 1e6) / 1e6);
}

/** Starts a streaming Messages request on an edge (raw fetch: the test reads the bytes). */
const streamRequest = (
  edgeUrl: string,
  orgKey: string,
  opts: { content: string; maxTokens: number; signal?: AbortSignal },
) =>
  fetch(`${edgeUrl}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': orgKey,
    },
    body: JSON.stringify({
      model: ALLOWED_MODEL,
      max_tokens: opts.maxTokens,
      stream: true,
      messages: [{ role: 'user', content: opts.content }],
    }),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });

/** The final usage of an SSE body: message_start's, overlaid by the last message_delta's. */
function streamUsage(body: string): WireUsage {
  let usage: WireUsage = {};
  for (const line of body.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const e = JSON.parse(line.slice(5)) as {
      type: string;
      message?: { usage: WireUsage };
      usage?: WireUsage;
    };
    if (e.type === 'message_start') usage = { ...e.message?.usage };
    if (e.type === 'message_delta') {
      for (const [k, v] of Object.entries(e.usage ?? {})) {
        if (v !== null) (usage as Record<string, unknown>)[k] = v;
      }
    }
  }
  return usage;
}

describe('PAT spend: worst case reserved, actual cost settled', () => {
  let stack: TestStack;
  let redis: Redis;
  const spendKey = (orgId: string, patKeyId: string) =>
    `q:{${orgId}}:pat:${patKeyId}:spend:${new Date().toISOString().slice(0, 7)}`;
  const counter = async (orgId: string, patKeyId: string) => {
    const h = await redis.hgetall(spendKey(orgId, patKeyId));
    return { settled: Number(h['settled'] ?? 0), reserved: Number(h['reserved'] ?? 0) };
  };
  /** Waits until nothing is reserved any more, and returns what was settled. */
  const settledSpend = (orgId: string, patKeyId: string) =>
    eventually(async () => {
      const c = await counter(orgId, patKeyId);
      return c.reserved === 0 ? c.settled : undefined;
    }, 'every reservation settled');
  /** An org whose PAT key has a monthly spend cap (so spend is counted). */
  const cappedOrg = async (capMicrousd: number, extra: Record<string, unknown> = {}) => {
    const org = await stack.seed({ allowedModels: ['*'] });
    await stack.operator.policyAdmin.putPatLimits({
      orgId: org.orgId,
      actorId: 'usr_admin',
      limits: { patKeyId: org.patKeyId, monthlySpendCapMicrousd: BigInt(capMicrousd), ...extra },
    });
    return org;
  };
  const sdk = (orgKey: string, baseURL = stack.edgeUrl) =>
    new Anthropic({ apiKey: orgKey, baseURL, maxRetries: 0 });

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    redis = new Redis(stack.redis.url, { maxRetriesPerRequest: 1 });
  });
  after(() => redis.disconnect());

  it('settles a message at the cost of the usage the upstream reported', async () => {
    const org = await cappedOrg(10_000_000);
    const message = await sdk(org.orgKey).messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 200,
      messages: [{ role: 'user', content: 'tell me about lighthouses' }],
    });
    const cost = haikuCost(message.usage);
    assert.ok(cost > 0);
    assert.equal(await settledSpend(org.orgId, org.patKeyId), cost);
    const outcome = await eventually(async () => {
      const rows = await stack.auditRows(org.orgId);
      return rows.find((r) => r.kind === 'outcome');
    }, 'the outcome row');
    assert.equal(JSON.stringify(outcome.event).includes(`"spendMicrousd":"${cost}"`), true);
  });

  it('settles a stream (read by the SDK’s helper) at the cost of its final cumulative usage', async () => {
    const org = await cappedOrg(10_000_000);
    const stream = sdk(org.orgKey).messages.stream({
      model: ALLOWED_MODEL,
      max_tokens: 300,
      system: [
        { type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral', ttl: '1h' } },
      ],
      messages: [{ role: 'user', content: 'describe the sea in a few sentences' }],
    });
    const final = await stream.finalMessage();
    assert.equal(await settledSpend(org.orgId, org.patKeyId), haikuCost(final.usage));
  });

  describe('with the web search tool', () => {
    /** Two searches asked of the fake, three allowed by the tool (so three are reserved). */
    const searchBody = (stream: boolean) =>
      JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 300,
        stream,
        tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: 3 }],
        messages: [{ role: 'user', content: 'lighthouse news FAKE_WEB_SEARCH:2' }],
      });
    const post = (url: string, apiKey: string, body: string) =>
      fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'anthropic-version': '2023-06-01',
          'x-api-key': apiKey,
        },
        body,
      }).then((res) => res.text());
    /** Ids differ from one response to the next; every other byte must be the same. */
    const withoutIds = (body: string) => body.replace(/"(msg|srvtoolu)_[A-Za-z0-9]+"/g, '"$1_x"');

    for (const stream of [false, true]) {
      it(`settles the tokens plus the fee per search (${stream ? 'stream' : 'JSON'}), passing the fake's bytes`, async () => {
        const org = await cappedOrg(10_000_000);
        const via = await post(stack.edgeUrl, org.orgKey, searchBody(stream));
        const usage = stream ? streamUsage(via) : (JSON.parse(via) as { usage: WireUsage }).usage;
        assert.equal(usage.server_tool_use?.web_search_requests, 2);
        assert.equal(
          await settledSpend(org.orgId, org.patKeyId),
          haikuCost(usage) + 2 * WEB_SEARCH_FEE,
        );
        const straight = await post(
          stack.sandbox.url,
          stack.sandboxAnthropicKey,
          searchBody(stream),
        );
        assert.equal(withoutIds(via), withoutIds(straight));
        // The outcome records the searches beside the tokens (uint64: a JSON string).
        const outcome = await eventually(async () => {
          const rows = await stack.auditRows(org.orgId);
          return rows.find((r) => r.kind === 'outcome');
        }, 'the outcome row');
        assert.match(JSON.stringify(outcome.event), /"webSearchRequests":"2"/);
      });
    }
  });

  it('bills a client that disconnects mid-stream for what it used, and releases the rest', async () => {
    const org = await cappedOrg(10_000_000);
    const abort = new AbortController();
    const res = await streamRequest(stack.edgeUrl, org.orgKey, {
      content: 'a long story please FAKE_SLOW_STREAM:200',
      maxTokens: 2000,
      signal: abort.signal,
    });
    assert.equal(res.status, 200);
    const requestId = res.headers.get('x-fortress-request-id') ?? '';
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.match(first, /message_start/);
    abort.abort();
    const settled = await settledSpend(org.orgId, org.patKeyId);
    // message_start carries the input tokens: they were used, so they are billed.
    assert.ok(settled > 0, 'the partial usage is billed');
    assert.ok(settled < 2000 * HAIKU.output, 'the unused reservation is released');
    const outcome = await eventually(
      async () =>
        (await stack.auditRows(org.orgId)).find(
          (r) => r.kind === 'outcome' && r.request_id === requestId,
        ),
      'the outcome of the aborted request',
    );
    assert.equal(outcome.status_code, 499);
    assert.match(JSON.stringify(outcome.event), /"clientAborted":true/);
  });

  it('settles from the outcome event when the policy cannot be reached at settlement time', async function () {
    this.timeout(90_000);
    const org = await cappedOrg(10_000_000);
    const res = await streamRequest(stack.edgeUrl, org.orgKey, {
      content: 'FAKE_SLOW_STREAM:150 tell me a story',
      maxTokens: 64,
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let body = new TextDecoder().decode((await reader.read()).value);
    // Admitted and streaming: the policy goes away before the stream ends, so the edge's
    // direct Settle cannot reach it.
    await stack.services.policy.kill();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        body += new TextDecoder().decode(value);
      }
      const requestId = res.headers.get('x-fortress-request-id') ?? '';
      await eventually(
        async () =>
          (await stack.auditRows(org.orgId)).find(
            (r) => r.kind === 'outcome' && r.request_id === requestId,
          ),
        'the outcome, published while the policy is down',
      );
      // The edge gives up on its direct Settle while the policy is down (its retries span ~2 s).
      await eventually(
        () =>
          stack.services.edge.lines.some(
            (l) => l.includes('reservation not settled directly') && l.includes(org.orgId),
          )
            ? true
            : undefined,
        'the edge to give up settling directly',
      );
      assert.ok((await counter(org.orgId, org.patKeyId)).reserved > 0, 'still only reserved');
    } finally {
      await stack.services.policy.restart();
    }
    // Back up, the policy reads the outcome and settles the reservation at the actual cost.
    assert.equal(await settledSpend(org.orgId, org.patKeyId), haikuCost(streamUsage(body)));
    // The edge's channel to the restarted policy reconnects before the next test.
    const probe = await cappedOrg(10_000_000);
    await eventually(
      async () =>
        (await postMessages(stack.edgeUrl, { headers: { 'x-api-key': probe.orgKey } })).status ===
        200
          ? true
          : undefined,
      'the chain to recover',
      20_000,
    );
  });

  describe('a cap shared by three edge replicas', () => {
    const replicas: ServiceProcess[] = [];
    before(async function () {
      this.timeout(120_000);
      replicas.push(
        ...(await Promise.all([stack.startReplica('edge'), stack.startReplica('edge')])),
      );
    });
    after(async () => {
      await Promise.all(replicas.map((r) => r.stop()));
    });

    it('is never exceeded by 200 concurrent streams, and every allowed stream is billed', async function () {
      this.timeout(180_000);
      const cap = 40_000;
      const org = await cappedOrg(cap);
      const edges = [stack.edgeUrl, ...replicas.map((r) => `http://127.0.0.1:${r.ports.httpPort}`)];
      const results = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const res = await streamRequest(edges[i % edges.length] ?? '', org.orgKey, {
            content: `stream number ${i}`,
            maxTokens: 64,
          });
          return { status: res.status, body: await res.text(), retry: res.headers };
        }),
      );
      const ok = results.filter((r) => r.status === 200);
      const capped = results.filter((r) => r.status === 403);
      // On a loaded machine a hop may miss its deadline: that request fails closed (503, not
      // forwarded, nothing billed), which the cap's bound does not depend on.
      const failedClosed = results.filter((r) => r.status === 503 && /not forwarded/.test(r.body));
      assert.equal(
        ok.length + capped.length + failedClosed.length,
        200,
        `every request allowed, capped or failed closed: ${JSON.stringify(results.map((r) => r.status))}`,
      );
      assert.ok(
        ok.length > 0 && capped.length > 0,
        `${ok.length} allowed, ${capped.length} capped`,
      );
      for (const r of capped) {
        assert.match(r.body, /spend cap/);
        assert.equal(r.retry.get('x-should-retry'), 'false');
      }
      const billed = ok.reduce((sum, r) => sum + haikuCost(streamUsage(r.body)), 0);
      const settled = await settledSpend(org.orgId, org.patKeyId);
      assert.equal(
        settled,
        billed,
        'the settled spend is exactly the usage of the allowed streams',
      );
      assert.ok(settled <= cap, `settled ${settled} within the cap ${cap}`);
    });
  });

  it('denies a model with no price rather than billing it at zero', async () => {
    const org = await cappedOrg(10_000_000);
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      model: 'claude-opus-4-6',
    });
    assert.equal(res.status, 403);
    assert.equal(res.json.error?.type, 'policy_denied');
    assert.match(res.json.error?.message ?? '', /no price/);
    await eventually(
      async () =>
        (await stack.auditRows(org.orgId)).find(
          (r) => r.decision === 'deny' && r.reasons[0]?.code === 'model_unpriced',
        ),
      'the audited denial',
    );
    assert.equal(
      stack.sandbox.requests.filter((r) => r.body.includes('claude-opus-4-6')).length,
      0,
    );
  });

  it('resolves a listed alias to its exact id for the allowlist, and nothing by prefix', async () => {
    const org = await cappedOrg(10_000_000, { modelAllowlist: [ALLOWED_MODEL] });
    const alias = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      model: 'claude-haiku-4-5',
    });
    assert.equal(alias.status, 200);
    const prefix = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      model: 'claude-haiku-4',
    });
    assert.equal(prefix.status, 403);
  });

  it('clamps max_tokens when the PAT key says so', async () => {
    const org = await cappedOrg(10_000_000, { maxTokensPerRequest: 10, clampMaxTokens: true });
    const marker = `clamp-${Date.now()}`;
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 500,
        messages: [{ role: 'user', content: marker }],
      }),
    });
    assert.equal(res.status, 200);
    const seen = stack.sandbox.requests.find((r) => r.body.toString('utf8').includes(marker));
    assert.equal(
      (JSON.parse(seen?.body.toString('utf8') ?? '{}') as { max_tokens: number }).max_tokens,
      10,
    );
  });

  it('raises one alert when settled spend crosses the threshold, and none again', async () => {
    const probe = await cappedOrg(10_000_000);
    const one = await sdk(probe.orgKey).messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 20,
      messages: [{ role: 'user', content: 'hi' }],
    });
    // A cap of 0.1 USD alerting at 1% (1,000 micro-USD): crossed once by a run of requests
    // that together cost a little more than that.
    const per = haikuCost(one.usage);
    const org = await cappedOrg(100_000, { alertThresholdPercent: 1 });
    const client = sdk(org.orgKey);
    for (let i = 0; i < Math.ceil(1000 / per) + 2; i++) {
      await client.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 20,
        messages: [{ role: 'user', content: 'hi' }],
      });
    }
    await settledSpend(org.orgId, org.patKeyId);
    const alerts = await eventually(async () => {
      const rows = await stack.auditRows(org.orgId);
      const found = rows.filter(
        (r) =>
          r.kind === 'notification' &&
          JSON.stringify(r.event).includes('pat.spend_threshold_reached'),
      );
      return found.length ? found : undefined;
    }, 'the threshold alert');
    assert.equal(alerts.length, 1);
  });

  it('leaves no reservation behind for bad input', async () => {
    const org = await cappedOrg(10_000_000);
    const bad = [
      '{not json',
      '[]',
      JSON.stringify({ max_tokens: 10, messages: [] }),
      JSON.stringify({ model: 7, max_tokens: 10 }),
    ];
    for (const body of bad) {
      const res = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey }, body });
      assert.equal(res.status, 400, body);
    }
    // Rejected by the upstream after admission (messages missing): settled at zero.
    const upstreamRejects = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      body: JSON.stringify({ model: ALLOWED_MODEL, max_tokens: 10 }),
    });
    assert.equal(upstreamRejects.status, 400);
    assert.equal(await settledSpend(org.orgId, org.patKeyId), 0);
  });
});
