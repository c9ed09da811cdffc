import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { ALLOWED_MODEL, eventually, useStack, type TestStack } from './support/stack.js';

const SONNET = 'claude-sonnet-4-5-20250929';

/** A POST whose response body is read as raw bytes (no content decoding, unlike fetch). */
function rawPost(url: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; encoding: string | undefined; bytes: Buffer }>(
    (resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            encoding: res.headers['content-encoding'],
            bytes: Buffer.concat(chunks),
          }),
        );
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    },
  );
}

describe('PAT routes with the official Anthropic SDK', () => {
  let stack: TestStack;
  let direct: Anthropic;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    direct = new Anthropic({
      apiKey: stack.sandboxAnthropicKey,
      baseURL: stack.sandbox.url,
      maxRetries: 0,
    });
  });
  /** An org whose PAT key may use exactly these models (the role allows every model). */
  const orgWith = async (allowlist: string[]) => {
    const org = await stack.seed({ allowedModels: ['*'] });
    await stack.operator.policyAdmin.putPatLimits({
      orgId: org.orgId,
      actorId: 'usr_admin',
      limits: { patKeyId: org.patKeyId, modelAllowlist: allowlist },
    });
    return {
      ...org,
      client: new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 }),
    };
  };

  it('counts tokens exactly as the upstream does', async () => {
    const { client } = await orgWith([ALLOWED_MODEL]);
    const params = {
      model: ALLOWED_MODEL,
      system: 'You are a cartographer.',
      messages: [{ role: 'user' as const, content: 'how many tokens is this sentence?' }],
      tools: [
        {
          name: 'get_map',
          description: 'a map of a place',
          input_schema: { type: 'object' as const, properties: { place: { type: 'string' } } },
        },
      ],
    };
    const via = await client.messages.countTokens(params);
    assert.deepEqual(via, await direct.messages.countTokens(params));
    assert.ok(via.input_tokens > 0);
    await assert.rejects(
      client.messages.countTokens({ ...params, model: SONNET }),
      (err: unknown) => err instanceof Anthropic.PermissionDeniedError,
    );
  });

  it('lists only the models the PAT key may use, in the upstream’s order, with its paging', async () => {
    const { client } = await orgWith([SONNET, ALLOWED_MODEL]);
    const all = [];
    for await (const m of client.models.list({ limit: 1 })) all.push(m);
    const upstream = [];
    for await (const m of direct.models.list({ limit: 100 })) upstream.push(m);
    assert.deepEqual(
      all,
      upstream.filter((m) => m.id === SONNET || m.id === ALLOWED_MODEL),
      'the allowed models, exactly as the upstream describes them, newest first',
    );
    const first = await client.models.list({ limit: 1 });
    assert.equal(first.data.length, 1);
    assert.equal(first.has_more, true);
    assert.equal(first.last_id, first.data[0]?.id);
    const before = await client.models.list({ before_id: all[1]?.id ?? '' });
    assert.deepEqual(
      before.data.map((m) => m.id),
      [all[0]?.id],
    );
    await assert.rejects(
      client.models.list({ limit: 0 }),
      (err: unknown) => err instanceof Anthropic.BadRequestError,
    );
  });

  it('retrieves a model the key may use byte for byte, and hides one it may not', async () => {
    const { orgKey, client } = await orgWith([ALLOWED_MODEL]);
    const via = await fetch(`${stack.edgeUrl}/v1/models/${ALLOWED_MODEL}`, {
      headers: { 'x-api-key': orgKey, 'anthropic-version': '2023-06-01' },
    });
    const straight = await fetch(`${stack.sandbox.url}/v1/models/${ALLOWED_MODEL}`, {
      headers: { 'x-api-key': stack.sandboxAnthropicKey, 'anthropic-version': '2023-06-01' },
    });
    assert.equal(via.status, 200);
    assert.deepEqual(
      Buffer.from(await via.arrayBuffer()),
      Buffer.from(await straight.arrayBuffer()),
    );
    assert.equal((await client.models.retrieve('claude-haiku-4-5')).id, ALLOWED_MODEL);
    await assert.rejects(
      client.models.retrieve(SONNET),
      (err: unknown) => err instanceof Anthropic.NotFoundError,
    );
  });

  it('accepts ?beta=true and forwards anthropic-beta', async () => {
    const { client, orgKey } = await orgWith([ALLOWED_MODEL]);
    const marker = `beta-${Date.now()}`;
    const msg = await client.beta.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 32,
      betas: ['context-management-2025-06-27'],
      messages: [{ role: 'user', content: marker }],
    });
    assert.equal(msg.type, 'message');
    const seen = await eventually(
      () => stack.sandbox.requests.find((r) => r.body.toString('utf8').includes(marker)),
      'the upstream request',
    );
    assert.equal(seen.headers['anthropic-beta'], 'context-management-2025-06-27');
    // Today's SDK no longer puts ?beta=true on the wire; older ones and curl users do.
    const raw = await fetch(`${stack.edgeUrl}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'x-api-key': orgKey,
      },
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: `${marker}-raw` }],
      }),
    });
    assert.equal(raw.status, 200);
    const rawSeen = await eventually(
      () => stack.sandbox.requests.find((r) => r.body.toString('utf8').includes(`${marker}-raw`)),
      'the raw upstream request',
    );
    assert.equal(rawSeen.query, 'beta=true');
  });

  it('returns the upstream’s bytes for JSON, gzip and SSE bodies', async () => {
    const { orgKey } = await orgWith([ALLOWED_MODEL]);
    for (const variant of [
      { stream: false, encoding: undefined },
      { stream: false, encoding: 'gzip' },
      { stream: true, encoding: undefined },
      { stream: true, encoding: 'gzip' },
    ]) {
      const body = JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 2000,
        stream: variant.stream,
        // Thinking and a tool make the stream carry thinking, signature and input_json deltas.
        thinking: { type: 'enabled', budget_tokens: 1024 },
        tools: [{ name: 'lookup', input_schema: { type: 'object', properties: {} } }],
        messages: [{ role: 'user', content: 'look something up for me' }],
      });
      const headers = {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        ...(variant.encoding ? { 'accept-encoding': variant.encoding } : {}),
      };
      const via = await rawPost(
        `${stack.edgeUrl}/v1/messages`,
        { ...headers, 'x-api-key': orgKey },
        body,
      );
      const straight = await rawPost(
        `${stack.sandbox.url}/v1/messages`,
        { ...headers, 'x-api-key': stack.sandboxAnthropicKey },
        body,
      );
      const what = JSON.stringify(variant);
      assert.equal(via.status, 200, what);
      assert.equal(via.encoding, straight.encoding, what);
      // Ids, signatures and timings differ from one response to the next; everything else,
      // every event, field and byte of framing, must be the same.
      const text = (r: typeof via) =>
        (r.encoding === 'gzip' ? gunzipSync(r.bytes) : r.bytes)
          .toString('utf8')
          .replace(/"(msg|toolu|req)_[A-Za-z0-9]+"/g, '"$1_x"')
          .replace(/"signature":"[^"]*"/g, '"signature":"x"');
      assert.equal(text(via), text(straight), what);
    }
  });
});
