import { ok, rejectInvalid, type Result } from './errors.js';
import { isObject, type JsonObject } from './wire-types.js';

/** How the request configures extended thinking, when it turns it on. */
export interface ThinkingSetting {
  readonly type: 'enabled' | 'adaptive';
  readonly omitted: boolean;
}

/** The request's `tool_choice`. */
export interface ToolChoiceSetting {
  readonly type: string;
  readonly name?: string;
}

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,128}$/;
const TOOL_CHOICES = ['auto', 'any', 'tool', 'none'];
const THINKING_TYPES = ['enabled', 'disabled', 'adaptive', 'between_tools'];

/** `tools`: custom tools need a valid name and an `input_schema`; server tools pass as sent. */
export function validateTools(raw: unknown): Result<readonly JsonObject[]> {
  if (raw === undefined) return ok([]);
  if (!Array.isArray(raw)) return rejectInvalid('tools: Input should be a valid list');
  for (const [i, tool] of raw.entries()) {
    if (!isObject(tool)) return rejectInvalid(`tools.${i}: Input should be an object`);
    // Server tools (web_search_…, bash_…) carry a versioned `type` and no schema.
    if (tool['type'] !== undefined && tool['type'] !== 'custom') continue;
    if (typeof tool['name'] !== 'string')
      return rejectInvalid(`tools.${i}.custom.name: Field required`);
    if (!TOOL_NAME.test(tool['name'])) {
      return rejectInvalid(
        `tools.${i}.custom.name: String should match pattern '${TOOL_NAME.source}'`,
      );
    }
    if (!isObject(tool['input_schema'])) {
      return rejectInvalid(`tools.${i}.custom.input_schema: Field required`);
    }
  }
  return ok(raw as JsonObject[]);
}

/** `tool_choice`: one of auto, any, tool (with a name) or none. */
export function validateToolChoice(raw: unknown): Result<ToolChoiceSetting | undefined> {
  if (raw === undefined) return ok(undefined);
  const type = isObject(raw) ? raw['type'] : undefined;
  if (!isObject(raw) || typeof type !== 'string' || !TOOL_CHOICES.includes(type)) {
    return rejectInvalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  }
  const name = raw['name'];
  if (type === 'tool' && typeof name !== 'string')
    return rejectInvalid('tool_choice.tool.name: Field required');
  return ok(typeof name === 'string' ? { type, name } : { type });
}

/** `stop_sequences`: a list of strings. */
export function validateStopSequences(raw: unknown): Result<readonly string[]> {
  if (raw === undefined) return ok([]);
  const invalid = rejectInvalid<readonly string[]>(
    'stop_sequences: Input should be a valid list of strings',
  );
  if (!Array.isArray(raw)) return invalid;
  const sequences: string[] = [];
  for (const value of raw as unknown[]) {
    if (typeof value !== 'string') return invalid;
    sequences.push(value);
  }
  return ok(sequences);
}

/**
 * `thinking`: enabled needs `budget_tokens` of at least 1024 and below `max_tokens` (when the
 * endpoint has one); adaptive is accepted; disabled and between_tools turn thinking off here.
 */
export function validateThinking(
  raw: unknown,
  maxTokens: number | undefined,
): Result<ThinkingSetting | undefined> {
  if (raw === undefined) return ok(undefined);
  if (!isObject(raw) || typeof raw['type'] !== 'string' || !THINKING_TYPES.includes(raw['type'])) {
    const expected = THINKING_TYPES.map((t) => `'${t}'`).join(', ');
    return rejectInvalid(`thinking.type: Input should be one of ${expected}`);
  }
  const omitted = raw['display'] === 'omitted';
  if (raw['type'] === 'adaptive') return ok({ type: 'adaptive', omitted });
  if (raw['type'] !== 'enabled') return ok(undefined);
  const budget = raw['budget_tokens'];
  if (budget === undefined) return rejectInvalid('thinking.enabled.budget_tokens: Field required');
  if (typeof budget !== 'number' || !Number.isInteger(budget)) {
    return rejectInvalid('thinking.enabled.budget_tokens: Input should be a valid integer');
  }
  if (budget < 1024) {
    return rejectInvalid(
      'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
    );
  }
  if (maxTokens !== undefined && maxTokens <= budget) {
    return rejectInvalid('`max_tokens` must be greater than `thinking.budget_tokens`');
  }
  return ok({ type: 'enabled', omitted });
}
