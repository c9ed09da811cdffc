import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { RawMessageStreamEvent, Tool } from '@anthropic-ai/sdk/resources/messages';
import {
  MODEL,
  messageBody,
  parseFrames,
  rawFetch,
  startSandbox,
  type Sandbox,
} from './helpers.js';

const LOOKUP_TOOL: Tool = {
  name: 'lookup_forecast',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer', minimum: 3 } },
    required: ['city', 'days'],
  },
};

async function collect(
  stream: AsyncIterable<RawMessageStreamEvent>,
): Promise<RawMessageStreamEvent[]> {
  const events: RawMessageStreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

describe('fake anthropic: streaming', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());

  it('streams the canonical event sequence through the raw SDK iterator', async () => {
    const stream = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      stream: true,
      messages: [{ role: 'user', content: 'stream me a reply' }],
    });
    const events = await collect(stream);
    const types = events.map((e) => e.type);
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    const deltas = events.filter((e) => e.type === 'content_block_delta');
    assert.ok(deltas.length >= 3, `expected several text deltas, got ${deltas.length}`);
    const text = deltas.map((e) => (e.delta.type === 'text_delta' ? e.delta.text : '')).join('');
    assert.equal(text, 'This is the Fortress sandbox. You said: "stream me a reply"');

    const start = events[0];
    assert.ok(start?.type === 'message_start');
    assert.ok(start.message.usage.input_tokens > 0);
    assert.deepEqual(start.message.content, []);
    assert.equal(start.message.stop_reason, null);
    const delta = events.at(-2);
    assert.ok(delta?.type === 'message_delta');
    assert.equal(delta.delta.stop_reason, 'end_turn');
    assert.equal(delta.usage.output_tokens, Math.ceil(text.length / 4));
    assert.equal(delta.usage.input_tokens, start.message.usage.input_tokens);
  });

  it('builds the same message through messages.stream().finalMessage() as create() returns', async () => {
    const params = {
      model: MODEL,
      max_tokens: 256,
      messages: [{ role: 'user' as const, content: 'same either way' }],
    };
    const stream = sandbox.client.messages.stream(params);
    const chunks: string[] = [];
    stream.on('text', (delta) => chunks.push(delta));
    const streamed = await stream.finalMessage();
    const created = await sandbox.client.messages.create(params);
    assert.ok(chunks.length >= 3);
    assert.deepEqual(streamed.content, created.content);
    assert.deepEqual(streamed.usage, { ...created.usage });
    assert.equal(streamed.stop_reason, created.stop_reason);
  });

  it('splits tool input into several input_json_delta chunks, opening with an empty one', async () => {
    const stream = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      stream: true,
      tools: [LOOKUP_TOOL],
      tool_choice: { type: 'tool', name: 'lookup_forecast' },
      messages: [{ role: 'user', content: 'plan my trip' }],
    });
    const events = await collect(stream);
    const start = events.find((e) => e.type === 'content_block_start');
    assert.ok(start?.type === 'content_block_start');
    assert.equal(start.content_block.type, 'tool_use');
    const partials = events.flatMap((e) =>
      e.type === 'content_block_delta' && e.delta.type === 'input_json_delta'
        ? [e.delta.partial_json]
        : [],
    );
    assert.equal(partials[0], '');
    assert.ok(partials.length >= 3, `expected several partial_json chunks, got ${partials.length}`);
    assert.deepEqual(JSON.parse(partials.join('')), { city: 'San Francisco, CA', days: 3 });

    const final = await sandbox.client.messages
      .stream({
        model: MODEL,
        max_tokens: 256,
        tools: [LOOKUP_TOOL],
        messages: [{ role: 'user', content: 'weather for my trip' }],
      })
      .finalMessage();
    assert.equal(final.stop_reason, 'tool_use');
    const use = final.content.find((b) => b.type === 'tool_use');
    assert.deepEqual(use?.type === 'tool_use' ? use.input : undefined, {
      city: 'San Francisco, CA',
      days: 3,
    });
  });

  it('streams thinking as thinking_delta then one signature_delta', async () => {
    const params = {
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 2048 },
      messages: [{ role: 'user' as const, content: 'ponder this' }],
    };
    const events = await collect(await sandbox.client.messages.create({ ...params, stream: true }));
    const kinds = events.flatMap((e) =>
      e.type === 'content_block_delta' && e.index === 0 ? [e.delta.type] : [],
    );
    assert.ok(kinds.filter((k) => k === 'thinking_delta').length >= 2);
    assert.deepEqual(kinds.slice(-1), ['signature_delta']);
    const final = await sandbox.client.messages.stream(params).finalMessage();
    const created = await sandbox.client.messages.create(params);
    assert.deepEqual(final.content[0], created.content[0]);
  });

  it('streams a citations_delta for a cited document block', async () => {
    const params = {
      model: MODEL,
      max_tokens: 256,
      messages: [
        {
          role: 'user' as const,
          content: [
            {
              type: 'document' as const,
              citations: { enabled: true },
              source: {
                type: 'text' as const,
                media_type: 'text/plain' as const,
                data: 'Water boils at 100 C. It freezes at 0 C.',
              },
            },
            { type: 'text' as const, text: 'When does water boil?' },
          ],
        },
      ],
    };
    const events = await collect(await sandbox.client.messages.create({ ...params, stream: true }));
    const citation = events.find(
      (e) => e.type === 'content_block_delta' && e.delta.type === 'citations_delta',
    );
    assert.ok(
      citation?.type === 'content_block_delta' && citation.delta.type === 'citations_delta',
    );
    assert.equal(citation.index, 1);
    assert.equal(citation.delta.citation.cited_text, 'Water boils at 100 C.');
    const final = await sandbox.client.messages.stream(params).finalMessage();
    const cited = final.content[1];
    assert.ok(cited?.type === 'text');
    assert.equal(cited.citations?.length, 1);
  });

  it('passes an unknown event type through the SDK iterator without breaking finalMessage()', async () => {
    const params = {
      model: MODEL,
      max_tokens: 128,
      messages: [{ role: 'user' as const, content: 'hello FAKE_UNKNOWN_EVENT' }],
    };
    const events = await collect(await sandbox.client.messages.create({ ...params, stream: true }));
    assert.deepEqual(events[1], {
      type: 'fortune_cookie',
      fortune: 'A proxy that forwards what it does not understand lives long.',
    });
    const final = await sandbox.client.messages.stream(params).finalMessage();
    assert.equal(final.stop_reason, 'end_turn');
  });

  it('raises an overloaded APIError mid-stream after a 200 when asked to', async () => {
    const stream = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 128,
      stream: true,
      messages: [{ role: 'user', content: 'FAKE_OVERLOADED_MIDSTREAM please' }],
    });
    const seen: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const event of stream) seen.push(event.type);
      })(),
      (err: unknown) =>
        err instanceof Anthropic.APIError &&
        err.status === undefined &&
        err.type === 'overloaded_error' &&
        err.apiMessage === 'Overloaded',
    );
    assert.deepEqual(seen, [
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_delta',
    ]);
    await assert.rejects(
      sandbox.client.messages
        .stream({
          model: MODEL,
          max_tokens: 128,
          messages: [{ role: 'user', content: 'FAKE_OVERLOADED_MIDSTREAM' }],
        })
        .finalMessage(),
      (err: unknown) => err instanceof Anthropic.APIError && err.type === 'overloaded_error',
    );
  });

  it('frames every event as "event: <type>\\ndata: <json>\\n\\n" with a ping after the first block starts', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/messages?beta=true', {
      body: messageBody('raw framing', { stream: true }),
      headers: { 'accept-encoding': 'gzip' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    assert.equal(res.headers.get('content-encoding'), null, 'streams are never compressed');
    assert.match(res.headers.get('request-id') ?? '', /^req_/);
    assert.ok(res.headers.get('anthropic-ratelimit-requests-remaining'));
    const body = await res.text();
    assert.ok(body.endsWith('\n\n'));
    const frames = parseFrames(body);
    for (const frame of frames) {
      assert.match(frame.raw, /^event: [a-z_]+\ndata: \{.*\}$/);
      assert.equal(frame.data.type, frame.event);
    }
    assert.deepEqual(
      frames.slice(0, 3).map((f) => f.event),
      ['message_start', 'content_block_start', 'ping'],
    );
    assert.equal(frames.filter((f) => f.event === 'ping').length, 1);
    assert.equal(frames.at(-1)?.event, 'message_stop');
  });

  it('ends the raw stream with an error frame and no message_stop on FAKE_OVERLOADED_MIDSTREAM', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/messages', {
      body: messageBody('FAKE_OVERLOADED_MIDSTREAM', { stream: true }),
    });
    assert.equal(res.status, 200);
    const frames = parseFrames(await res.text());
    const last = frames.at(-1);
    assert.equal(last?.event, 'error');
    assert.deepEqual(last?.data, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: res.headers.get('request-id'),
    });
    assert.ok(!frames.some((f) => f.event === 'message_stop'));
  });

  it('writes an unknown event type as an ordinary frame', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/messages', {
      body: messageBody('FAKE_UNKNOWN_EVENT', { stream: true }),
    });
    const frames = parseFrames(await res.text());
    assert.equal(
      frames[1]?.raw,
      'event: fortune_cookie\ndata: {"type":"fortune_cookie","fortune":"A proxy that forwards what it does not understand lives long."}',
    );
  });

  it('spaces events by the FAKE_SLOW_STREAM delay and delivers them as separate chunks', async () => {
    const delayMs = 25;
    const started = performance.now();
    const res = await rawFetch(sandbox.fake, '/v1/messages', {
      body: messageBody(`FAKE_SLOW_STREAM:${delayMs} go`, { stream: true }),
    });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    assert.ok(reader);
    const decoder = new TextDecoder();
    let text = '';
    let reads = 0;
    for (let chunk = await reader.read(); chunk.done !== true; chunk = await reader.read()) {
      reads += 1;
      text += decoder.decode(chunk.value, { stream: true });
    }
    const elapsed = performance.now() - started;
    const events = parseFrames(text).length;
    assert.ok(events >= 8);
    // Timers never fire early (allowing 1 ms of rounding per gap), so this bound cannot flake.
    assert.ok(
      elapsed >= (events - 1) * (delayMs - 1),
      `${events} events took only ${elapsed.toFixed(0)} ms`,
    );
    assert.ok(
      // A buffered body would arrive in one or two reads; allow a busy client to merge a few.
      reads >= Math.ceil(events / 2),
      `expected about one chunk per event, got ${reads} reads for ${events} events`,
    );
  });

  it('keeps serving after a client abandons a slow stream', async () => {
    const controller = new AbortController();
    const res = await fetch(`${sandbox.fake.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': 'sk-ant-sandbox-test-key',
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
      },
      body: JSON.stringify(messageBody('FAKE_SLOW_STREAM:1000 slow', { stream: true })),
      signal: controller.signal,
    });
    const reader = res.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
    assert.ok(reader);
    const first = await reader.read();
    assert.match(new TextDecoder().decode(first.value), /^event: message_start/);
    controller.abort();
    const next = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'still there?' }],
    });
    assert.equal(next.type, 'message');
  });
});

describe('fake anthropic: latency and shutdown', () => {
  it('delays responses by latencyMs and can change it at runtime', async () => {
    const { fake, client } = await startSandbox({ latencyMs: 200 });
    try {
      let started = performance.now();
      await client.models.list();
      assert.ok(performance.now() - started >= 199);
      fake.setLatency(0);
      started = performance.now();
      await client.models.list();
      assert.ok(performance.now() - started < 199);
    } finally {
      await fake.close();
    }
  });

  it('cuts in-flight slow streams when closed', async () => {
    const { fake, client } = await startSandbox({ chunkDelayMs: 60_000 });
    const stream = await client.messages.create({
      model: MODEL,
      max_tokens: 64,
      stream: true,
      messages: [{ role: 'user', content: 'never ends' }],
    });
    const iterator = stream[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.ok(first.done !== true);
    assert.equal(first.value.type, 'message_start');
    await fake.close();
    await assert.rejects(
      async () => {
        for (let r = await iterator.next(); r.done !== true; r = await iterator.next()) {
          // drain until the cut connection surfaces
        }
        throw new Error('stream ended cleanly');
      },
      (err: unknown) => !(err instanceof Error && err.message === 'stream ended cleanly'),
    );
  });
});
