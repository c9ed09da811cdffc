import { checkConversation } from './conversation-rules.js';
import { fail, ok, rejectInvalid, type Result } from './errors.js';
import {
  validateStopSequences,
  validateThinking,
  validateToolChoice,
  validateTools,
  type ThinkingSetting,
  type ToolChoiceSetting,
} from './message-options.js';
import { isObject, type Block, type JsonObject, type WireMessage } from './wire-types.js';

/** A `/v1/messages` or `/v1/messages/count_tokens` body after validation. */
export interface MessageRequest {
  readonly model: string;
  /** 0 for count_tokens, which has no `max_tokens`. */
  readonly maxTokens: number;
  readonly messages: readonly WireMessage[];
  readonly system: string | readonly Block[] | undefined;
  readonly tools: readonly JsonObject[];
  readonly toolChoice: ToolChoiceSetting | undefined;
  readonly thinking: ThinkingSetting | undefined;
  readonly stopSequences: readonly string[];
  readonly stream: boolean;
  /** Top-level `cache_control` (automatic caching of the whole prompt). */
  readonly cacheControl: JsonObject | undefined;
}

const ROLES = ['user', 'assistant', 'system'] as const;

/** Parses a request body that must be a JSON object. */
export function parseJsonObject(body: Buffer): Result<JsonObject> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err: unknown) {
    const reason = err instanceof Error ? err.message : String(err);
    return rejectInvalid(`invalid JSON in request body: ${reason}`);
  }
  return isObject(parsed) ? ok(parsed) : rejectInvalid('body: Input should be an object');
}

/**
 * Validates a messages body the way the real API does, with its pydantic-style messages
 * (`model: Field required`); `countTokens` drops `max_tokens`. Fields the fake does not use
 * (temperature, metadata, …) are accepted as sent.
 */
export function validateMessageRequest(
  body: JsonObject,
  countTokens: boolean,
): Result<MessageRequest> {
  const { model, max_tokens: maxTokens, messages, stream } = body;
  if (model === undefined) return rejectInvalid('model: Field required');
  if (typeof model !== 'string' || model === '')
    return rejectInvalid('model: Input should be a valid string');
  let limit = 0;
  if (!countTokens) {
    if (maxTokens === undefined) return rejectInvalid('max_tokens: Field required');
    if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens)) {
      return rejectInvalid('max_tokens: Input should be a valid integer');
    }
    if (maxTokens < 0)
      return rejectInvalid('max_tokens: Input should be greater than or equal to 0');
    limit = maxTokens;
  }
  if (messages === undefined) return rejectInvalid('messages: Field required');
  if (!Array.isArray(messages)) return rejectInvalid('messages: Input should be a valid list');
  if (messages.length === 0) return rejectInvalid('messages: at least one message is required');
  if (stream !== undefined && typeof stream !== 'boolean') {
    return rejectInvalid('stream: Input should be a valid boolean');
  }

  const turns: WireMessage[] = [];
  for (const [i, raw] of messages.entries()) {
    const turn = validateTurn(raw, `messages.${i}`);
    if (!turn.ok) return fail(turn.failure);
    turns.push(turn.value);
  }
  const violation = checkConversation(turns);
  if (violation !== undefined) return rejectInvalid(violation);

  const system = body['system'];
  let systemValue: string | readonly Block[] | undefined = undefined;
  if (typeof system === 'string') systemValue = system;
  else if (system !== undefined) {
    const blocks = validateBlocks(system, 'system');
    if (!blocks.ok) return fail(blocks.failure);
    systemValue = blocks.value;
  }
  const tools = validateTools(body['tools']);
  if (!tools.ok) return fail(tools.failure);
  const toolChoice = validateToolChoice(body['tool_choice']);
  if (!toolChoice.ok) return fail(toolChoice.failure);
  const stopSequences = validateStopSequences(body['stop_sequences']);
  if (!stopSequences.ok) return fail(stopSequences.failure);
  const thinking = validateThinking(body['thinking'], countTokens ? undefined : limit);
  if (!thinking.ok) return fail(thinking.failure);
  const cacheControl = body['cache_control'];

  return ok({
    model,
    maxTokens: limit,
    messages: turns,
    system: systemValue,
    tools: tools.value,
    toolChoice: toolChoice.value,
    thinking: thinking.value,
    stopSequences: stopSequences.value,
    stream: stream === true,
    cacheControl: isObject(cacheControl) ? cacheControl : undefined,
  });
}

function validateTurn(raw: unknown, path: string): Result<WireMessage> {
  if (!isObject(raw)) return rejectInvalid(`${path}: Input should be an object`);
  const role = ROLES.find((r) => r === raw['role']);
  if (role === undefined) {
    return rejectInvalid(`${path}.role: Input should be 'user', 'assistant' or 'system'`);
  }
  const content = raw['content'];
  if (content === undefined) return rejectInvalid(`${path}.content: Field required`);
  if (typeof content === 'string') return ok({ role, content });
  const blocks = validateBlocks(content, `${path}.content`);
  return blocks.ok ? ok({ role, content: blocks.value }) : fail(blocks.failure);
}

function validateBlocks(raw: unknown, path: string): Result<readonly Block[]> {
  if (!Array.isArray(raw)) return rejectInvalid(`${path}: Input should be a valid list`);
  for (const [i, block] of raw.entries()) {
    if (!isObject(block) || typeof block['type'] !== 'string') {
      return rejectInvalid(`${path}.${i}.type: Field required`);
    }
    if (block['type'] === 'text' && typeof block['text'] !== 'string') {
      return rejectInvalid(`${path}.${i}.text: Field required`);
    }
  }
  return ok(raw as Block[]);
}
