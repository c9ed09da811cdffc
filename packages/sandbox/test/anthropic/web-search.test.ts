import assert from 'node:assert/strict';
import type {
  ContentBlock,
  Message,
  WebSearchTool20250305,
} from '@anthropic-ai/sdk/resources/messages';
import {
  MODEL,
  messageBody,
  parseFrames,
  rawFetch,
  startSandbox,
  type Sandbox,
} from './helpers.js';

const WEB_SEARCH: WebSearchTool20250305 = { type: 'web_search_20250305', name: 'web_search' };

/** The request the SDK would send: a question that asks the fake for `hook`'s searches. */
function searchParams(hook: string, tool: WebSearchTool20250305 = WEB_SEARCH) {
  return {
    model: MODEL,
    max_tokens: 512,
    tools: [tool],
    messages: [{ role: 'user' as const, content: `latest lighthouse news ${hook}` }],
  };
}

/** Asserts `n` call and result pairs before the text, each result naming its call. */
function assertSearches(message: Message, n: number): void {
  const types = message.content.map((b: ContentBlock) => b.type);
  assert.deepEqual(types, [
    ...Array.from({ length: n }, () => ['server_tool_use', 'web_search_tool_result']).flat(),
    'text',
  ]);
  for (let i = 0; i < n; i += 1) {
    const call = message.content[2 * i];
    const result = message.content[2 * i + 1];
    assert.ok(call?.type === 'server_tool_use' && result?.type === 'web_search_tool_result');
    assert.match(call.id, /^srvtoolu_01[A-Za-z0-9]{22}$/);
    assert.equal(call.name, 'web_search');
    assert.match((call.input as { query: string }).query, /^latest lighthouse news/);
    assert.equal(result.tool_use_id, call.id);
    assert.ok(Array.isArray(result.content) && result.content.length > 0);
    for (const page of result.content) {
      assert.equal(page.type, 'web_search_result');
      assert.match(page.url, /^https:\/\//);
      assert.ok(page.title !== '' && page.encrypted_content !== '');
    }
  }
  assert.deepEqual(message.usage.server_tool_use, {
    web_search_requests: n,
    web_fetch_requests: 0,
  });
  assert.equal(message.stop_reason, 'end_turn');
}

describe('fake anthropic: web search', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());

  it('runs one search by default and reports it in usage (create)', async () => {
    const message = await sandbox.client.messages.create(searchParams('FAKE_WEB_SEARCH'));
    assertSearches(message, 1);
  });

  it('runs the asked number of searches, capped by max_uses', async () => {
    const two = await sandbox.client.messages.create(searchParams('FAKE_WEB_SEARCH:2'));
    assertSearches(two, 2);
    const capped = await sandbox.client.messages.create(
      searchParams('FAKE_WEB_SEARCH:5', { ...WEB_SEARCH, max_uses: 3 }),
    );
    assertSearches(capped, 3);
  });

  it('searches only when a web search tool is offered', async () => {
    const message = await sandbox.client.messages.create({
      ...searchParams('FAKE_WEB_SEARCH:2'),
      tools: [],
    });
    assert.deepEqual(
      message.content.map((b) => b.type),
      ['text'],
    );
    assert.equal(message.usage.server_tool_use, null);
  });

  it('streams the searches so that messages.stream().finalMessage() rebuilds them', async () => {
    const stream = sandbox.client.messages.stream(searchParams('FAKE_WEB_SEARCH:2'));
    const final = await stream.finalMessage();
    assertSearches(final, 2);
  });

  it('streams a call as input_json_delta and a result whole, with usage in start and delta', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/messages', {
      body: messageBody('news FAKE_WEB_SEARCH:2', { stream: true, tools: [WEB_SEARCH] }),
    });
    const frames = parseFrames(await res.text());
    const resultStart = frames.findIndex(
      (f) =>
        f.event === 'content_block_start' &&
        (f.data['content_block'] as { type: string }).type === 'web_search_tool_result',
    );
    const opened = frames[resultStart]?.data['content_block'] as { content: unknown[] };
    assert.ok(opened.content.length > 0, 'the result arrives whole in content_block_start');
    assert.equal(frames[resultStart + 1]?.event, 'content_block_stop');

    const callIndex = frames.find(
      (f) =>
        f.event === 'content_block_start' &&
        (f.data['content_block'] as { type: string }).type === 'server_tool_use',
    )?.data['index'];
    const callDeltas = frames.filter(
      (f) => f.event === 'content_block_delta' && f.data['index'] === callIndex,
    );
    assert.ok(callDeltas.length > 1);
    for (const f of callDeltas)
      assert.equal((f.data['delta'] as { type: string }).type, 'input_json_delta');

    const usageOf = (event: string) => {
      const data = frames.find((f) => f.event === event)?.data;
      const usage =
        event === 'message_start' ? (data?.['message'] as Message).usage : data?.['usage'];
      return (usage as { server_tool_use: unknown }).server_tool_use;
    };
    const expected = { web_search_requests: 2, web_fetch_requests: 0 };
    assert.deepEqual(usageOf('message_start'), expected);
    assert.deepEqual(usageOf('message_delta'), expected);
  });
});
