import assert from 'node:assert/strict';
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { chunkWords, messageEvents } from '../../src/anthropic/message-events.js';
import { acceptsGzip } from '../../src/anthropic/http-io.js';

const MESSAGE: Message = {
  id: 'msg_01test',
  type: 'message',
  role: 'assistant',
  model: 'm',
  content: [
    { type: 'text', text: 'one two three four', citations: null },
    {
      type: 'tool_use',
      id: 'toolu_01x',
      name: 't',
      input: { a: 'bcdefghijklmnop' },
      caller: { type: 'direct' },
    },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  stop_details: null,
  container: null,
  diagnostics: null,
  usage: {
    input_tokens: 9,
    output_tokens: 12,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: null,
    output_tokens_details: null,
    server_tool_use: null,
    service_tier: 'standard',
    inference_geo: null,
    speed: null,
  },
};

describe('messageEvents', () => {
  it('emits start, blocks with a single ping, delta and stop in order', () => {
    const names = [
      ...messageEvents(MESSAGE, { unknownEvent: false, midstreamErrorRequestId: undefined }),
    ].map((e) =>
      e.data.type === 'content_block_delta' && 'delta' in e.data
        ? `${e.event}:${(e.data.delta as { type: string }).type}`
        : e.event,
    );
    assert.deepEqual(names, [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta:text_delta',
      'content_block_delta:text_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta:input_json_delta',
      'content_block_delta:input_json_delta',
      'content_block_delta:input_json_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
  });

  it('cuts the stream with an error event after two deltas when asked', () => {
    const events = [
      ...messageEvents(MESSAGE, { unknownEvent: true, midstreamErrorRequestId: 'req_x' }),
    ];
    assert.deepEqual(
      events.map((e) => e.event),
      [
        'message_start',
        'fortune_cookie',
        'content_block_start',
        'ping',
        'content_block_delta',
        'content_block_delta',
        'error',
      ],
    );
    assert.deepEqual(events.at(-1)?.data, {
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
      request_id: 'req_x',
    });
  });
});

describe('chunkWords', () => {
  const cases = [
    { text: '', chunks: [] },
    { text: 'a b', chunks: ['a b'] },
    { text: ' a b c d ', chunks: [' a b c', ' d '] },
    { text: '   ', chunks: ['   '] },
  ];
  for (const c of cases) {
    it(`splits ${JSON.stringify(c.text)} without losing characters`, () => {
      assert.deepEqual(chunkWords(c.text), c.chunks);
    });
  }
});

describe('acceptsGzip', () => {
  const cases: ReadonlyArray<{ header: string | undefined; accepts: boolean }> = [
    { header: undefined, accepts: false },
    { header: 'gzip, deflate', accepts: true },
    { header: 'br;q=1.0, GZIP;q=0.5', accepts: true },
    { header: 'gzip;q=0', accepts: false },
    { header: 'x-gzip-ish', accepts: false },
    { header: 'identity', accepts: false },
  ];
  for (const c of cases) {
    it(`${c.accepts ? 'accepts' : 'refuses'} gzip for ${String(c.header)}`, () => {
      assert.equal(acceptsGzip(c.header), c.accepts);
    });
  }
});
