import type { MessageRequest } from './message-request.js';
import { isObject, type Block, type WireMessage } from './wire-types.js';

/** The tool result a client sent back, with the name of the tool it answers. */
export interface ToolResultTurn {
  readonly toolName: string;
  readonly text: string;
  readonly isError: boolean;
}

/** A document block the reply should cite, and its index among the request's documents. */
export interface CitableDocument {
  readonly index: number;
  readonly block: Block;
}

const SUMMARY_CHARS = 80;

/** The last `user` turn, which the fake answers. */
export function lastUserMessage(request: MessageRequest): WireMessage | undefined {
  return request.messages.findLast((m) => m.role === 'user');
}

/** The plain text of a turn's content: the string itself, or its text blocks joined. */
export function textOf(content: WireMessage['content'] | undefined): string {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  let text = '';
  for (const block of content) {
    if (block.type === 'text' && typeof block['text'] === 'string') {
      text += text === '' ? block['text'] : ` ${block['text']}`;
    }
  }
  return text;
}

/** Whitespace collapsed and cut to a short quotable length. */
export function summarize(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(no text)';
  return flat.length <= SUMMARY_CHARS ? flat : `${flat.slice(0, SUMMARY_CHARS - 1)}…`;
}

/** The first `tool_result` of the last user turn, if it has one. */
export function lastToolResult(request: MessageRequest): ToolResultTurn | undefined {
  const index = request.messages.findLastIndex((m) => m.role === 'user');
  const turn = request.messages[index];
  if (turn === undefined || typeof turn.content === 'string') return undefined;
  const result = turn.content.find((b) => b.type === 'tool_result');
  if (result === undefined) return undefined;
  // Validation guarantees the previous turn holds the matching tool_use.
  const previous = request.messages[index - 1];
  const use =
    previous !== undefined && typeof previous.content !== 'string'
      ? previous.content.find((b) => b.type === 'tool_use' && b['id'] === result['tool_use_id'])
      : undefined;
  const content = result['content'];
  const text =
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? textOf(content.filter((b): b is Block => isObject(b) && typeof b['type'] === 'string'))
        : '';
  return {
    toolName: typeof use?.['name'] === 'string' ? use['name'] : 'unknown',
    text,
    isError: result['is_error'] === true,
  };
}

/** The first document with citations enabled in the last user turn. */
export function citableDocument(request: MessageRequest): CitableDocument | undefined {
  const last = lastUserMessage(request);
  let index = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') continue;
    for (const block of message.content) {
      if (block.type !== 'document') continue;
      const citations = block['citations'];
      if (message === last && isObject(citations) && citations['enabled'] === true) {
        return { index, block };
      }
      index += 1;
    }
  }
  return undefined;
}
