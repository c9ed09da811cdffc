import type { PriceEntry } from './price-book.js';

/**
 * Tokens the API may add to the input beyond the body's own text: the system prompt it
 * injects for tool use (a few hundred tokens per the API documentation), with room to spare.
 */
export const INJECTED_INPUT_TOKENS = 1024;

/** What about a Messages request bounds its cost. */
export interface RequestShape {
  /** UTF-8 bytes of the body: every text token costs at least one byte, so tokens ≤ bytes. */
  bodyBytes: number;
  maxTokens: number;
  /** A `cache_control` anywhere: input may be billed at the (dearer) cache-write rates. */
  usesPromptCache: boolean;
  /**
   * Input the body does not contain (a URL or file source, server tools, MCP servers): it is
   * bounded only by the model's context window.
   */
  externalInput: boolean;
}

/** Usage as the upstream reports it (cumulative), in tokens. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  cacheCreation5mInputTokens: number;
  cacheCreation1hInputTokens: number;
}

/** Rounds up to a whole micro-USD, ignoring binary floating-point noise (3 × 0.1). */
const ceilMicro = (x: number): number => Math.ceil(Math.round(x * 1e6) / 1e6);

/** Source and tool types whose content the body does not carry. */
const EXTERNAL_TYPES = new Set(['url', 'file', 'container_upload', 'mcp_tool_use']);

/**
 * Reads the shape of a parsed Messages body. Walks it iteratively (a deeply nested body cannot
 * overflow the stack); anything it cannot classify makes the bound larger, never smaller.
 */
export function requestShape(body: Record<string, unknown>, bodyBytes: number): RequestShape {
  const maxTokens = body['max_tokens'];
  let usesPromptCache = false;
  let externalInput = Array.isArray(body['mcp_servers']) && body['mcp_servers'].length > 0;
  const tools = body['tools'];
  if (Array.isArray(tools)) {
    // Client tools have no type (or "custom"); any other type is a server tool that runs
    // upstream and feeds its results back as input.
    externalInput ||= tools.some(
      (t) =>
        typeof t === 'object' &&
        t !== null &&
        typeof (t as { type?: unknown }).type === 'string' &&
        (t as { type: string }).type !== 'custom',
    );
  }
  const stack: unknown[] = [body];
  while (stack.length > 0 && !(usesPromptCache && externalInput)) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const v of node) if (typeof v === 'object' && v !== null) stack.push(v);
    } else if (typeof node === 'object' && node !== null) {
      const o = node as Record<string, unknown>;
      if ('cache_control' in o) usesPromptCache = true;
      if ('file_id' in o || (typeof o['type'] === 'string' && EXTERNAL_TYPES.has(o['type'])))
        externalInput = true;
      for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) stack.push(v);
    }
  }
  return {
    bodyBytes,
    maxTokens: typeof maxTokens === 'number' && Number.isSafeInteger(maxTokens) ? maxTokens : 0,
    usesPromptCache,
    externalInput,
  };
}

/**
 * The most a request can cost, in micro-USD, and the most tokens it can use: an upper bound on
 * input (the body's bytes plus what the API injects, capped by the context window; the whole
 * window when input comes from elsewhere) at the dearest input rate the request can incur, plus
 * `max_tokens` (which includes thinking) at the output rate.
 */
export function worstCase(
  price: PriceEntry,
  shape: RequestShape,
): { spendMicrousd: number; tokens: number } {
  const input = shape.externalInput
    ? price.maxInputTokens
    : Math.min(shape.bodyBytes + INJECTED_INPUT_TOKENS, price.maxInputTokens);
  const r = price.rates;
  const inputRate = shape.usesPromptCache
    ? Math.max(r.input, r.cacheWrite5m, r.cacheWrite1h)
    : r.input;
  return {
    spendMicrousd: ceilMicro(input * inputRate + shape.maxTokens * r.output),
    tokens: input + shape.maxTokens,
  };
}

/**
 * What a request actually cost, in micro-USD (rounded up), from the upstream's usage. Cache
 * writes without the 5-minute / 1-hour split are billed at the 5-minute rate, as the API does.
 */
export function actualSpend(price: PriceEntry, u: TokenUsage): number {
  const r = price.rates;
  const split = u.cacheCreation5mInputTokens + u.cacheCreation1hInputTokens;
  const unsplit = Math.max(0, u.cacheCreationInputTokens - split);
  return ceilMicro(
    u.inputTokens * r.input +
      (u.cacheCreation5mInputTokens + unsplit) * r.cacheWrite5m +
      u.cacheCreation1hInputTokens * r.cacheWrite1h +
      u.cacheReadInputTokens * r.cacheRead +
      u.outputTokens * r.output,
  );
}

/** Tokens a request actually used (what a tokens-per-minute limit counts). */
export function actualTokens(u: TokenUsage): number {
  return u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens + u.outputTokens;
}
