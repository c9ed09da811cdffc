import type { StopReason, TextCitation } from '@anthropic-ai/sdk/resources/messages';
import { quoteDocument } from './citations.js';
import {
  citableDocument,
  lastToolResult,
  lastUserMessage,
  summarize,
  textOf,
} from './conversation.js';
import { newToolUseId } from './ids.js';
import type { MessageRequest } from './message-request.js';
import { isObject, type JsonObject } from './wire-types.js';
import { signThinking, thinkingText } from './thinking.js';
import { sampleToolInput } from './tool-input.js';
import { tokensForChars } from './token-estimate.js';
import { planWebSearches, type PlannedSearchCall, type PlannedSearchResult } from './web-search.js';

/** A content block of the reply, before it is shaped for the wire. */
export type PlannedBlock =
  | {
      readonly type: 'thinking';
      readonly thinking: string;
      readonly signature: string;
      /** Length of the reasoning even when `display: omitted` hides it; it is still billed. */
      readonly hiddenChars: number;
    }
  | {
      readonly type: 'text';
      readonly text: string;
      readonly citations: readonly TextCitation[] | null;
    }
  | {
      readonly type: 'tool_use';
      readonly id: string;
      readonly name: string;
      readonly input: JsonObject;
    }
  | PlannedSearchCall
  | PlannedSearchResult;

/** The whole reply: blocks, why it stopped and what it cost in output tokens. */
export interface PlannedReply {
  readonly blocks: readonly PlannedBlock[];
  readonly stopReason: StopReason;
  readonly stopSequence: string | null;
  readonly outputTokens: number;
  /** Set when the reply has a thinking block (for `output_tokens_details`). */
  readonly thinkingTokens: number | undefined;
  /** Web searches the reply ran (its `server_tool_use` blocks), billed per search. */
  readonly webSearchRequests: number;
}

type CustomTool = JsonObject & { readonly name: string; readonly input_schema: JsonObject };

/** Words in the last user message that make the fake call a tool (with `tool_choice` auto). */
const TOOL_TRIGGER = /\bweather\b/i;

/**
 * Plans a deterministic reply to the last user turn, in this order of precedence:
 * a `tool_result` is acknowledged in text; a tool is called when `tool_choice` forces it or
 * the text mentions "weather" (or FAKE_TOOL_USE); a citable document is quoted with a
 * citation; otherwise the text is echoed back in a short summary. Thinking, when enabled,
 * comes first, then the web searches FAKE_WEB_SEARCH asks for (`webSearches`). `stop_sequences`
 * and `max_tokens` then cut the reply as the real API would.
 */
export function planReply(
  request: MessageRequest,
  forceToolTrigger: boolean,
  webSearches: number | undefined,
): PlannedReply {
  const lastText = textOf(lastUserMessage(request)?.content);
  const summary = summarize(lastText);
  const blocks: PlannedBlock[] = [];
  if (request.thinking !== undefined) {
    const reasoning = thinkingText(summary);
    blocks.push({
      type: 'thinking',
      thinking: request.thinking.omitted ? '' : reasoning,
      signature: signThinking(reasoning),
      hiddenChars: reasoning.length,
    });
  }
  blocks.push(...planWebSearches(request, webSearches, lastText));

  let stopReason: StopReason = 'end_turn';
  const toolResult = lastToolResult(request);
  const tool = toolResult === undefined ? pickTool(request, lastText, forceToolTrigger) : undefined;
  const document = citableDocument(request);
  if (toolResult !== undefined) {
    const quoted = summarize(toolResult.text);
    blocks.push(
      text(
        toolResult.isError
          ? `The ${toolResult.toolName} tool failed with "${quoted}", so I cannot finish that.`
          : `The ${toolResult.toolName} tool returned "${quoted}". That answers your question.`,
      ),
    );
  } else if (tool !== undefined) {
    if (!tool.forced) blocks.push(text(`I'll use the ${tool.tool.name} tool to help with that.`));
    blocks.push({
      type: 'tool_use',
      id: newToolUseId(),
      name: tool.tool.name,
      input: sampleToolInput(tool.tool.input_schema),
    });
    stopReason = 'tool_use';
  } else if (document !== undefined) {
    const quote = quoteDocument(document);
    blocks.push(text('According to the document, '));
    blocks.push({ type: 'text', text: quote.text, citations: [quote.citation] });
  } else {
    blocks.push(text(`This is the Fortress sandbox. You said: "${summary}"`));
  }
  return applyLimits(blocks, stopReason, request);
}

function text(value: string): PlannedBlock {
  return { type: 'text', text: value, citations: null };
}

function pickTool(
  request: MessageRequest,
  lastText: string,
  forced: boolean,
): { tool: CustomTool; forced: boolean } | undefined {
  const custom = request.tools.filter(
    (t): t is CustomTool => typeof t['name'] === 'string' && isObject(t['input_schema']),
  );
  const choice = request.toolChoice;
  const first = custom[0];
  if (first === undefined || choice?.type === 'none') return undefined;
  if (choice?.type === 'tool') {
    const named = custom.find((t) => t.name === choice.name);
    return named === undefined ? undefined : { tool: named, forced: true };
  }
  if (choice?.type === 'any') return { tool: first, forced: true };
  return forced || TOOL_TRIGGER.test(lastText) ? { tool: first, forced: false } : undefined;
}

/** Characters of output a block costs (~4 per token). */
function costOf(block: PlannedBlock): number {
  switch (block.type) {
    case 'thinking':
      return block.hiddenChars;
    case 'text':
      return block.text.length;
    case 'tool_use':
    case 'server_tool_use':
      return block.name.length + JSON.stringify(block.input).length;
    case 'web_search_tool_result':
      // Search results are read by the model, not written by it: no output cost.
      return 0;
  }
}

function applyLimits(
  planned: readonly PlannedBlock[],
  natural: StopReason,
  request: MessageRequest,
): PlannedReply {
  let stopReason = natural;
  let stopSequence: string | null = null;
  const cut: PlannedBlock[] = [];
  for (const block of planned) {
    const hit = block.type === 'text' ? earliestStop(block.text, request.stopSequences) : undefined;
    if (block.type === 'text' && hit !== undefined) {
      if (hit.index > 0) cut.push({ ...block, text: block.text.slice(0, hit.index) });
      stopReason = 'stop_sequence';
      stopSequence = hit.sequence;
      break;
    }
    cut.push(block);
  }

  let budget = request.maxTokens * 4;
  const blocks: PlannedBlock[] = [];
  for (const block of cut) {
    const cost = costOf(block);
    if (cost <= budget) {
      blocks.push(block);
      budget -= cost;
      continue;
    }
    if (block.type === 'text' && budget > 0)
      blocks.push({ ...block, text: block.text.slice(0, budget) });
    stopReason = 'max_tokens';
    stopSequence = null;
    break;
  }

  const chars = blocks.reduce((sum, b) => sum + costOf(b), 0);
  const thinking = blocks.find((b) => b.type === 'thinking');
  return {
    blocks,
    stopReason,
    stopSequence,
    // Billed output is never zero, except for a max_tokens: 0 cache pre-warm.
    outputTokens: request.maxTokens === 0 ? 0 : Math.max(1, tokensForChars(chars)),
    thinkingTokens: thinking === undefined ? undefined : tokensForChars(thinking.hiddenChars),
    webSearchRequests: blocks.filter((b) => b.type === 'server_tool_use').length,
  };
}

function earliestStop(
  value: string,
  sequences: readonly string[],
): { index: number; sequence: string } | undefined {
  let best: { index: number; sequence: string } | undefined;
  for (const sequence of sequences) {
    const index = sequence === '' ? -1 : value.indexOf(sequence);
    if (index >= 0 && (best === undefined || index < best.index)) best = { index, sequence };
  }
  return best;
}
