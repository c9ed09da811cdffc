import type {
  ContentBlock,
  Message,
  RawContentBlockDelta,
  RawContentBlockStartEvent,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import { errorEnvelope, type ErrorEnvelope } from './errors.js';
import { OVERLOADED } from './magic-strings.js';
import { toDeltaUsage } from './message-shape.js';

/** One server-sent event: its `event:` name and the JSON of its `data:` line. */
export interface SseEvent {
  readonly event: string;
  readonly data:
    | RawMessageStreamEvent
    | ErrorEnvelope
    | { readonly type: string; readonly [field: string]: unknown };
}

/** Test hooks that bend the event sequence (see magic-strings.ts). */
export interface StreamHooks {
  readonly unknownEvent: boolean;
  /** When set, the stream breaks off with an overloaded `error` event after two deltas. */
  readonly midstreamErrorRequestId: string | undefined;
}

const WORDS_PER_TEXT_DELTA = 3;
const CHARS_PER_JSON_DELTA = 12;
const PING: SseEvent = { event: 'ping', data: { type: 'ping' } };

/**
 * The event sequence of a streamed message, as the real API sends it: message_start (usage
 * with the input tokens), then per block content_block_start, several deltas and
 * content_block_stop, a ping after the first block starts, message_delta with the stop
 * reason and cumulative usage, and message_stop.
 */
export function* messageEvents(message: Message, hooks: StreamHooks): Generator<SseEvent> {
  const start: Message = {
    ...message,
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: {
      ...message.usage,
      output_tokens: Math.min(1, message.usage.output_tokens),
      output_tokens_details: null,
    },
  };
  yield { event: 'message_start', data: { type: 'message_start', message: start } };
  if (hooks.unknownEvent) {
    yield {
      event: 'fortune_cookie',
      data: {
        type: 'fortune_cookie',
        fortune: 'A proxy that forwards what it does not understand lives long.',
      },
    };
  }

  let deltas = 0;
  let pinged = false;
  for (const [index, block] of message.content.entries()) {
    const opening = openingOf(block);
    if (opening === undefined) continue;
    yield {
      event: 'content_block_start',
      data: { type: 'content_block_start', index, content_block: opening },
    };
    if (!pinged) {
      yield PING;
      pinged = true;
    }
    for (const delta of deltasOf(block)) {
      yield { event: 'content_block_delta', data: { type: 'content_block_delta', index, delta } };
      deltas += 1;
      if (hooks.midstreamErrorRequestId !== undefined && deltas === 2) {
        yield overloaded(hooks.midstreamErrorRequestId);
        return;
      }
    }
    yield { event: 'content_block_stop', data: { type: 'content_block_stop', index } };
  }
  if (!pinged) yield PING;
  if (hooks.midstreamErrorRequestId !== undefined) {
    yield overloaded(hooks.midstreamErrorRequestId);
    return;
  }

  yield {
    event: 'message_delta',
    data: {
      type: 'message_delta',
      delta: {
        stop_reason: message.stop_reason,
        stop_sequence: message.stop_sequence,
        stop_details: null,
        container: null,
      },
      usage: toDeltaUsage(message.usage),
    },
  };
  yield { event: 'message_stop', data: { type: 'message_stop' } };
}

function overloaded(requestId: string): SseEvent {
  return { event: 'error', data: errorEnvelope(OVERLOADED, requestId) };
}

/** The empty form a block takes in content_block_start. */
function openingOf(block: ContentBlock): RawContentBlockStartEvent['content_block'] | undefined {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '', citations: block.citations === null ? null : [] };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'tool_use':
    case 'server_tool_use':
      return { ...block, input: {} };
    case 'web_search_tool_result':
      // Search results arrive whole in content_block_start, with no deltas.
      return block;
    default:
      return undefined;
  }
}

function* deltasOf(block: ContentBlock): Generator<RawContentBlockDelta> {
  switch (block.type) {
    case 'text':
      for (const citation of block.citations ?? []) yield { type: 'citations_delta', citation };
      for (const text of chunkWords(block.text)) yield { type: 'text_delta', text };
      return;
    case 'thinking':
      for (const thinking of chunkWords(block.thinking)) yield { type: 'thinking_delta', thinking };
      yield { type: 'signature_delta', signature: block.signature };
      return;
    case 'tool_use':
    case 'server_tool_use':
      yield* inputDeltas(block.input);
      return;
    default:
      return;
  }
}

/** A tool's input as input_json_delta chunks (server tools stream theirs like client tools). */
function* inputDeltas(input: unknown): Generator<RawContentBlockDelta> {
  // The real API opens every tool input with an empty partial_json.
  yield { type: 'input_json_delta', partial_json: '' };
  const json = JSON.stringify(input);
  for (let i = 0; i < json.length; i += CHARS_PER_JSON_DELTA) {
    yield { type: 'input_json_delta', partial_json: json.slice(i, i + CHARS_PER_JSON_DELTA) };
  }
}

/** Splits text into pieces of a few words, keeping every character. */
export function chunkWords(text: string): string[] {
  const words = text.match(/\s*\S+/g);
  if (words === null) return text === '' ? [] : [text];
  const chunks: string[] = [];
  for (let i = 0; i < words.length; i += WORDS_PER_TEXT_DELTA) {
    chunks.push(words.slice(i, i + WORDS_PER_TEXT_DELTA).join(''));
  }
  const tail = text.slice(chunks.join('').length);
  if (tail !== '') chunks[chunks.length - 1] += tail;
  return chunks;
}
