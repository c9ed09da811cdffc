/** Recorded-style wire formats of the Anthropic Messages API, for replay in tests. */

/** A non-streaming Messages response body with usage. */
export const MESSAGE_JSON = JSON.stringify({
  id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5-20250929',
  content: [{ type: 'text', text: 'Bonjour — ça va ?' }],
  stop_reason: 'end_turn',
  stop_sequence: null,
  usage: {
    input_tokens: 25,
    cache_creation_input_tokens: 10,
    cache_read_input_tokens: 5,
    cache_creation: { ephemeral_5m_input_tokens: 7, ephemeral_1h_input_tokens: 3 },
    output_tokens: 15,
    service_tier: 'standard',
  },
});

/** The usage of MESSAGE_JSON and SSE_STREAM, as the audit records it. */
export const EXPECTED_USAGE = {
  inputTokens: 25n,
  outputTokens: 15n,
  cacheCreationInputTokens: 10n,
  cacheReadInputTokens: 5n,
  cacheCreation5mInputTokens: 7n,
  cacheCreation1hInputTokens: 3n,
  webSearchRequests: 0n,
};

/** Usage when none could be read. */
export const ZERO_USAGE = {
  inputTokens: 0n,
  outputTokens: 0n,
  cacheCreationInputTokens: 0n,
  cacheReadInputTokens: 0n,
  cacheCreation5mInputTokens: 0n,
  cacheCreation1hInputTokens: 0n,
  webSearchRequests: 0n,
};

const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

/**
 * A streamed message as the API frames it: message_start with the input usage, content
 * blocks (non-ASCII text, so splits can fall inside a character), a ping, message_delta with
 * the cumulative usage, message_stop.
 */
export function sseStream(deltaUsage: Record<string, unknown> = { output_tokens: 15 }): string {
  return [
    event('message_start', {
      type: 'message_start',
      message: {
        id: 'msg_01XFDUDYJgAACzvnptvVoYEL',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5-20250929',
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: {
          input_tokens: 25,
          cache_creation_input_tokens: 10,
          cache_read_input_tokens: 5,
          cache_creation: { ephemeral_5m_input_tokens: 7, ephemeral_1h_input_tokens: 3 },
          output_tokens: 1,
        },
      },
    }),
    event('content_block_start', {
      type: 'content_block_start',
      index: 0,
      content_block: { type: 'text', text: '' },
    }),
    event('ping', { type: 'ping' }),
    event('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'Bonjour — ' },
    }),
    event('content_block_delta', {
      type: 'content_block_delta',
      index: 0,
      delta: { type: 'text_delta', text: 'ça va ? 你好 🚀' },
    }),
    event('content_block_stop', { type: 'content_block_stop', index: 0 }),
    event('message_delta', {
      type: 'message_delta',
      delta: { stop_reason: 'stop_sequence', stop_sequence: '。' },
      usage: deltaUsage,
    }),
    event('message_stop', { type: 'message_stop' }),
  ].join('');
}
