import type {
  ContentBlock,
  Message,
  MessageDeltaUsage,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import type { PlannedBlock, PlannedReply } from './message-generation.js';
import type { CacheUsage } from './prompt-cache.js';

/** Input-side token accounting of one request. */
export interface InputUsage {
  /** Tokens neither read from nor written to the cache. */
  readonly uncached: number;
  readonly cache: CacheUsage;
}

/** The `usage` object of a message, with the fields the current API returns. */
export function toUsage(input: InputUsage, reply: PlannedReply, outputTokens: number): Usage {
  return {
    input_tokens: input.uncached,
    cache_creation_input_tokens: input.cache.creation5m + input.cache.creation1h,
    cache_read_input_tokens: input.cache.read,
    cache_creation: {
      ephemeral_5m_input_tokens: input.cache.creation5m,
      ephemeral_1h_input_tokens: input.cache.creation1h,
    },
    output_tokens: outputTokens,
    output_tokens_details:
      reply.thinkingTokens === undefined ? null : { thinking_tokens: reply.thinkingTokens },
    server_tool_use:
      reply.webSearchRequests === 0
        ? null
        : { web_search_requests: reply.webSearchRequests, web_fetch_requests: 0 },
    service_tier: 'standard',
    inference_geo: 'not_available',
    speed: null,
  };
}

/** The cumulative usage a `message_delta` event carries at the end of a stream. */
export function toDeltaUsage(usage: Usage): MessageDeltaUsage {
  return {
    input_tokens: usage.input_tokens,
    cache_creation_input_tokens: usage.cache_creation_input_tokens,
    cache_read_input_tokens: usage.cache_read_input_tokens,
    output_tokens: usage.output_tokens,
    output_tokens_details: usage.output_tokens_details,
    server_tool_use: usage.server_tool_use,
  };
}

/** A planned block in its wire shape. */
export function toContentBlock(block: PlannedBlock): ContentBlock {
  switch (block.type) {
    case 'thinking':
      return { type: 'thinking', thinking: block.thinking, signature: block.signature };
    case 'text':
      return {
        type: 'text',
        text: block.text,
        citations: block.citations === null ? null : [...block.citations],
      };
    case 'tool_use':
      return {
        type: 'tool_use',
        id: block.id,
        name: block.name,
        input: block.input,
        caller: { type: 'direct' },
      };
    case 'server_tool_use':
      return {
        type: 'server_tool_use',
        id: block.id,
        name: block.name,
        input: block.input,
        caller: { type: 'direct' },
      };
    case 'web_search_tool_result':
      return {
        type: 'web_search_tool_result',
        tool_use_id: block.toolUseId,
        content: block.results.map((r) => ({
          type: 'web_search_result',
          url: r.url,
          title: r.title,
          encrypted_content: r.encryptedContent,
          page_age: r.pageAge,
        })),
        caller: { type: 'direct' },
      };
  }
}

/** The complete non-streaming `Message`; `model` echoes the request's model string. */
export function toMessage(
  id: string,
  model: string,
  reply: PlannedReply,
  input: InputUsage,
): Message {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: reply.blocks.map(toContentBlock),
    stop_reason: reply.stopReason,
    stop_sequence: reply.stopSequence,
    stop_details: null,
    container: null,
    diagnostics: null,
    usage: toUsage(input, reply, reply.outputTokens),
  };
}
