import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { ContentBlock, MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { KEY, MODEL, rawFetch, startSandbox, type Sandbox } from './helpers.js';

const WEATHER_TOOL: Tool = {
  name: 'get_weather',
  description: 'Current weather for a place',
  input_schema: {
    type: 'object',
    properties: {
      location: { type: 'string', description: 'City and state' },
      unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
      days: { type: 'integer', minimum: 1 },
    },
    required: ['location', 'unit'],
  },
};

function textOf(content: readonly ContentBlock[]): string {
  return content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

describe('fake anthropic: messages.create', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());
  beforeEach(() => sandbox.fake.clearRequests());

  it('echoes a summary of the last user message with the real message shape', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        { role: 'user', content: 'first question' },
        { role: 'assistant', content: 'first answer' },
        { role: 'user', content: [{ type: 'text', text: 'What   is the\ncapital of France?' }] },
      ],
    });
    assert.match(message.id, /^msg_01[0-9A-Za-z]{22}$/);
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.model, MODEL);
    assert.equal(message.stop_reason, 'end_turn');
    assert.equal(message.stop_sequence, null);
    assert.equal(
      textOf(message.content),
      'This is the Fortress sandbox. You said: "What is the capital of France?"',
    );
    assert.ok(message.usage.input_tokens > 0);
    assert.equal(message.usage.output_tokens, Math.ceil(textOf(message.content).length / 4));
    assert.equal(message.usage.cache_read_input_tokens, 0);
    assert.deepEqual(message.usage.cache_creation, {
      ephemeral_5m_input_tokens: 0,
      ephemeral_1h_input_tokens: 0,
    });
    assert.match(message._request_id ?? '', /^req_011C[0-9A-Za-z]{20}$/);
  });

  it('records that the SDK authenticates with Authorization: Bearer and anthropic-version 2026-10-21', async () => {
    await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(sandbox.fake.requests.length, 1);
    const [request] = sandbox.fake.requests;
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.path, '/v1/messages');
    assert.equal(request.headers['authorization'], `Bearer ${KEY}`);
    assert.equal(request.headers['x-api-key'], undefined);
    assert.equal(request.headers['anthropic-version'], '2026-10-21');
    assert.deepEqual(JSON.parse(request.body.toString('utf8')), {
      model: MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
  });

  it('echoes an alias as the model and rejects unknown and retired models with NotFoundError', async () => {
    const aliased = await sandbox.client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(aliased.model, 'claude-haiku-4-5');
    for (const model of ['claude-nope-9', 'claude-3-5-sonnet-20241022']) {
      await assert.rejects(
        sandbox.client.messages.create({
          model,
          max_tokens: 16,
          messages: [{ role: 'user', content: 'hi' }],
        }),
        (err: unknown) =>
          err instanceof Anthropic.NotFoundError &&
          err.type === 'not_found_error' &&
          err.apiMessage === `model: ${model}`,
      );
    }
  });

  it('calls the first tool when the user mentions the weather, then answers from the tool result', async () => {
    const question: MessageParam = { role: 'user', content: "What's the weather in Paris?" };
    const first = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [WEATHER_TOOL],
      messages: [question],
    });
    assert.equal(first.stop_reason, 'tool_use');
    assert.deepEqual(
      first.content.map((b) => b.type),
      ['text', 'tool_use'],
    );
    const use = first.content[1];
    assert.ok(use?.type === 'tool_use');
    assert.match(use.id, /^toolu_01/);
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { location: 'San Francisco, CA', unit: 'celsius' });

    const second = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 512,
      tools: [WEATHER_TOOL],
      messages: [
        question,
        {
          role: 'assistant',
          content: first.content.map((b) =>
            b.type === 'tool_use'
              ? { type: 'tool_use', id: b.id, name: b.name, input: b.input }
              : { type: 'text', text: b.type === 'text' ? b.text : '' },
          ),
        },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use.id, content: '18°C and sunny' }],
        },
      ],
    });
    assert.equal(second.stop_reason, 'end_turn');
    assert.equal(
      textOf(second.content),
      'The get_weather tool returned "18°C and sunny". That answers your question.',
    );
  });

  it('forces a tool call without preamble when tool_choice is any, and never calls one with none', async () => {
    const forced = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'any' },
      messages: [{ role: 'user', content: 'hello' }],
    });
    assert.deepEqual(
      forced.content.map((b) => b.type),
      ['tool_use'],
    );
    const refused = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      tools: [WEATHER_TOOL],
      tool_choice: { type: 'none' },
      messages: [{ role: 'user', content: 'the weather please' }],
    });
    assert.deepEqual(
      refused.content.map((b) => b.type),
      ['text'],
    );
  });

  it('rejects a tool_result whose tool_use_id has no tool_use in the previous turn', async () => {
    await assert.rejects(
      sandbox.client.messages.create({
        model: MODEL,
        max_tokens: 64,
        messages: [
          {
            role: 'user',
            content: [{ type: 'tool_result', tool_use_id: 'toolu_ghost', content: 'x' }],
          },
        ],
      }),
      (err: unknown) =>
        err instanceof Anthropic.BadRequestError && /toolu_ghost/.test(err.apiMessage ?? ''),
    );
  });

  it('puts a signed thinking block first when thinking is enabled, and accepts it back unchanged', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'Think about tea' }],
    });
    const [thinking, answer] = message.content;
    assert.ok(thinking?.type === 'thinking');
    assert.match(thinking.thinking, /Think about tea/);
    assert.match(thinking.signature, /^[A-Za-z0-9+/]{86}==$/);
    assert.equal(answer?.type, 'text');
    assert.equal(
      message.usage.output_tokens_details?.thinking_tokens,
      Math.ceil(thinking.thinking.length / 4),
    );

    const history: MessageParam[] = [
      { role: 'user', content: 'Think about tea' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: thinking.thinking, signature: thinking.signature },
          { type: 'text', text: 'Tea.' },
        ],
      },
      { role: 'user', content: 'more' },
    ];
    const next = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: history,
    });
    assert.equal(next.stop_reason, 'end_turn');

    const tampered = structuredClone(history);
    const block = (tampered[1]?.content as Array<{ type: string; thinking?: string }>)[0];
    assert.ok(block);
    block.thinking = 'edited by a proxy';
    await assert.rejects(
      sandbox.client.messages.create({ model: MODEL, max_tokens: 2048, messages: tampered }),
      (err: unknown) =>
        err instanceof Anthropic.BadRequestError && /signature/.test(err.apiMessage ?? ''),
    );
  });

  it('hides the thinking text but keeps the signature when display is omitted', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024, display: 'omitted' },
      messages: [{ role: 'user', content: 'secret reasoning' }],
    });
    const thinking = message.content[0];
    assert.ok(thinking?.type === 'thinking');
    assert.equal(thinking.thinking, '');
    assert.match(thinking.signature, /==$/);
    assert.ok((message.usage.output_tokens_details?.thinking_tokens ?? 0) > 0);
  });

  it('reports cache creation on the first call and a cache read for the same prefix after', async () => {
    const params = {
      model: MODEL,
      max_tokens: 64,
      system: [
        {
          type: 'text' as const,
          text: 'You are a meticulous assistant. '.repeat(40),
          cache_control: { type: 'ephemeral' as const },
        },
      ],
      messages: [{ role: 'user' as const, content: 'cache me' }],
    };
    const first = await sandbox.client.messages.create(params);
    const creation = first.usage.cache_creation_input_tokens ?? 0;
    assert.ok(
      creation >= 320,
      `expected the system prompt to be written to the cache, got ${creation}`,
    );
    assert.equal(first.usage.cache_read_input_tokens, 0);
    assert.deepEqual(first.usage.cache_creation, {
      ephemeral_5m_input_tokens: creation,
      ephemeral_1h_input_tokens: 0,
    });

    const second = await sandbox.client.messages.create(params);
    assert.equal(second.usage.cache_read_input_tokens, creation);
    assert.equal(second.usage.cache_creation_input_tokens, 0);
    assert.equal(second.usage.input_tokens, first.usage.input_tokens);
  });

  it('reads the earlier prefix when a conversation moves its breakpoint forward (lookback)', async () => {
    const turn1 = { type: 'text' as const, text: 'chapter one '.repeat(50) };
    const turn2 = { type: 'text' as const, text: 'chapter two '.repeat(50) };
    const ttl1h = { type: 'ephemeral' as const, ttl: '1h' as const };
    const first = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: [{ ...turn1, cache_control: ttl1h }] }],
    });
    const written = first.usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
    assert.ok(written > 0);
    assert.equal(first.usage.cache_creation?.ephemeral_5m_input_tokens, 0);

    const secondMessages: MessageParam[] = [
      { role: 'user', content: [turn1] },
      { role: 'assistant', content: 'noted' },
      { role: 'user', content: [{ ...turn2, cache_control: ttl1h }] },
    ];
    const second = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: secondMessages,
    });
    assert.equal(second.usage.cache_read_input_tokens, written);
    assert.ok(
      (second.usage.cache_creation_input_tokens ?? 0) >= 150,
      'turn two is written to the cache',
    );

    const third = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: secondMessages,
    });
    assert.equal(
      third.usage.cache_read_input_tokens,
      written + (second.usage.cache_creation_input_tokens ?? 0),
    );
    assert.equal(third.usage.cache_creation_input_tokens, 0);
  });

  it('caches the whole prompt with top-level cache_control', async () => {
    const params = {
      model: MODEL,
      max_tokens: 16,
      cache_control: { type: 'ephemeral' as const },
      messages: [{ role: 'user' as const, content: 'automatic caching '.repeat(20) }],
    };
    const first = await sandbox.client.messages.create(params);
    const second = await sandbox.client.messages.create(params);
    assert.ok((first.usage.cache_creation_input_tokens ?? 0) > 0);
    assert.equal(second.usage.cache_read_input_tokens, first.usage.cache_creation_input_tokens);
  });

  it('stops at a stop sequence and at max_tokens like the real API', async () => {
    const stopped = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      stop_sequences: ['sandbox'],
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(stopped.stop_reason, 'stop_sequence');
    assert.equal(stopped.stop_sequence, 'sandbox');
    assert.equal(textOf(stopped.content), 'This is the Fortress ');

    const cut = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 3,
      messages: [{ role: 'user', content: 'a long enough prompt' }],
    });
    assert.equal(cut.stop_reason, 'max_tokens');
    assert.equal(textOf(cut.content), 'This is the ');
    assert.equal(cut.usage.output_tokens, 3);
  });

  it('quotes and cites a plain-text document when citations are enabled', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 256,
      messages: [
        {
          role: 'user',
          content: [
            {
              type: 'document',
              title: 'Lawn facts',
              citations: { enabled: true },
              source: {
                type: 'text',
                media_type: 'text/plain',
                data: '  The grass is green. The sky is blue.',
              },
            },
            { type: 'text', text: 'What colour is the grass?' },
          ],
        },
      ],
    });
    assert.deepEqual(message.content, [
      { type: 'text', text: 'According to the document, ', citations: null },
      {
        type: 'text',
        text: 'The grass is green.',
        citations: [
          {
            type: 'char_location',
            cited_text: 'The grass is green.',
            document_index: 0,
            document_title: 'Lawn facts',
            start_char_index: 2,
            end_char_index: 21,
            file_id: null,
          },
        ],
      },
    ]);
  });

  const invalid: ReadonlyArray<{ name: string; body: Record<string, unknown>; message: RegExp }> = [
    {
      name: 'missing model',
      body: { max_tokens: 10, messages: [{ role: 'user', content: 'x' }] },
      message: /^model: Field required$/,
    },
    {
      name: 'missing max_tokens',
      body: { model: MODEL, messages: [{ role: 'user', content: 'x' }] },
      message: /^max_tokens: Field required$/,
    },
    {
      name: 'missing messages',
      body: { model: MODEL, max_tokens: 10 },
      message: /^messages: Field required$/,
    },
    {
      name: 'empty messages',
      body: { model: MODEL, max_tokens: 10, messages: [] },
      message: /at least one message/,
    },
    {
      name: 'bad role',
      body: { model: MODEL, max_tokens: 10, messages: [{ role: 'robot', content: 'x' }] },
      message: /^messages\.0\.role/,
    },
    {
      name: 'max_tokens above the model ceiling',
      body: {
        model: 'claude-3-haiku-20240307',
        max_tokens: 8000,
        messages: [{ role: 'user', content: 'x' }],
      },
      message:
        /^max_tokens: 8000 > 4096, which is the maximum allowed number of output tokens for claude-3-haiku-20240307$/,
    },
    {
      name: 'budget not below max_tokens',
      body: {
        model: MODEL,
        max_tokens: 1024,
        thinking: { type: 'enabled', budget_tokens: 1024 },
        messages: [{ role: 'user', content: 'x' }],
      },
      message: /budget_tokens/,
    },
    {
      name: 'bad tool name',
      body: {
        model: MODEL,
        max_tokens: 10,
        tools: [{ name: 'no spaces', input_schema: { type: 'object' } }],
        messages: [{ role: 'user', content: 'x' }],
      },
      message: /tools\.0\.custom\.name/,
    },
  ];
  for (const { name, body, message } of invalid) {
    it(`rejects ${name} with BadRequestError`, async () => {
      await assert.rejects(
        sandbox.client.messages.create(body as never),
        (err: unknown) =>
          err instanceof Anthropic.BadRequestError &&
          err.type === 'invalid_request_error' &&
          message.test(err.apiMessage ?? ''),
      );
    });
  }

  it('answers invalid JSON with a 400 invalid_request_error envelope', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/messages', { body: '{"model": ' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as {
      type: string;
      error: { type: string };
      request_id: string;
    };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.request_id, res.headers.get('request-id'));
  });

  it('counts tokens with the same estimate messages.create bills', async () => {
    const params = {
      model: MODEL,
      system: 'be brief',
      tools: [WEATHER_TOOL],
      messages: [{ role: 'user' as const, content: 'count these words please' }],
    };
    const counted = await sandbox.client.messages.countTokens(params);
    const created = await sandbox.client.messages.create({
      ...params,
      tool_choice: { type: 'none' },
      max_tokens: 32,
    });
    assert.equal(counted.input_tokens, created.usage.input_tokens);
    const longer = await sandbox.client.messages.countTokens({
      ...params,
      messages: [{ role: 'user', content: 'count these words please '.repeat(10) }],
    });
    assert.ok(longer.input_tokens > counted.input_tokens);
    assert.equal(sandbox.fake.requests[0]?.path, '/v1/messages/count_tokens');
  });

  it('serves the beta client and records its anthropic-beta header', async () => {
    const message = await sandbox.client.beta.messages.create({
      model: MODEL,
      max_tokens: 32,
      betas: ['token-efficient-tools-2025-02-19'],
      messages: [{ role: 'user', content: 'beta hello' }],
    });
    assert.equal(message.type, 'message');
    assert.match(
      sandbox.fake.requests[0]?.headers['anthropic-beta'] ?? '',
      /token-efficient-tools-2025-02-19/,
    );
  });
});
