import type { ModelRates, PriceEntry } from './price-book.js';

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
  /** The request's `anthropic-beta` list: a long-context beta widens the window. */
  betas: readonly string[];
  /**
   * Most web searches the request can run: the tool's `max_uses`, else (and at most)
   * `max_tokens`, since each search is a `server_tool_use` block the model writes as output,
   * at least one token each. 0 without the web search tool.
   */
  webSearchUses: number;
}

/** Usage as the upstream reports it (cumulative), in tokens. */
export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
  cacheCreationInputTokens: number;
  cacheReadInputTokens: number;
  cacheCreation5mInputTokens: number;
  cacheCreation1hInputTokens: number;
  /** `server_tool_use.web_search_requests`: searches, each billed a per-use fee. */
  webSearchRequests: number;
}

/** Rounds up to a whole micro-USD, ignoring binary floating-point noise (3 × 0.1). */
const ceilMicro = (x: number): number => Math.ceil(Math.round(x * 1e6) / 1e6);

/** Source and tool types whose content the body does not carry. */
const EXTERNAL_TYPES = new Set(['url', 'file', 'container_upload', 'mcp_tool_use']);

/** Web search tool definitions are typed `web_search_<version>` (e.g. `web_search_20250305`). */
const isWebSearchTool = (t: unknown): t is { type: string; max_uses?: unknown } =>
  typeof t === 'object' &&
  t !== null &&
  typeof (t as { type?: unknown }).type === 'string' &&
  (t as { type: string }).type.startsWith('web_search_');

/**
 * The most searches the web search tools of a request can run, given its `max_tokens` bound.
 * A tool without a valid `max_uses` is bounded by `max_tokens` alone (never by zero).
 */
function webSearchBound(tools: unknown, maxTokens: number): number {
  if (!Array.isArray(tools)) return 0;
  let uses = 0;
  for (const t of tools) {
    if (!isWebSearchTool(t)) continue;
    const max = t.max_uses;
    uses += typeof max === 'number' && Number.isSafeInteger(max) && max >= 0 ? max : maxTokens;
  }
  return Math.min(uses, maxTokens);
}

/**
 * The entries of `anthropic-beta` header values (comma-separated, possibly repeated), trimmed.
 */
export function parseBetas(header: string | readonly string[] | undefined): string[] {
  const values = typeof header === 'string' ? [header] : (header ?? []);
  return values.flatMap((v) => v.split(',').map((b) => b.trim())).filter((b) => b !== '');
}

/**
 * Reads the shape of a parsed Messages body (and the request's betas). Walks it iteratively (a
 * deeply nested body cannot overflow the stack); anything it cannot classify makes the bound
 * larger, never smaller.
 */
export function requestShape(
  body: Record<string, unknown>,
  bodyBytes: number,
  betas: readonly string[] = [],
): RequestShape {
  const rawMaxTokens = body['max_tokens'];
  const maxTokens =
    typeof rawMaxTokens === 'number' && Number.isSafeInteger(rawMaxTokens) ? rawMaxTokens : 0;
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
    maxTokens,
    usesPromptCache,
    externalInput,
    betas,
    webSearchUses: webSearchBound(tools, maxTokens),
  };
}

/** The context window a request may fill: the long-context one when it asks for that beta. */
function inputWindow(price: PriceEntry, betas: readonly string[]): number {
  const tier = price.longContext;
  return tier && betas.includes(tier.beta) ? tier.maxInputTokens : price.maxInputTokens;
}

/**
 * The rates for a request with this many input tokens (uncached + cache writes + cache reads):
 * past the long-context threshold every token is dearer. Input over the threshold can only
 * have been served with the beta, so usage alone decides.
 */
export function ratesFor(price: PriceEntry, inputTokens: number): ModelRates {
  const tier = price.longContext;
  return tier && inputTokens > tier.thresholdTokens ? tier.rates : price.rates;
}

/**
 * The most a request can cost, in micro-USD, and the most tokens it can use: an upper bound on
 * input (the body's bytes plus what the API injects, capped by the context window — the
 * long-context one when the request asks for its beta; the whole window when input comes from
 * elsewhere) at the dearest input rate the request can incur, plus `max_tokens` (which includes
 * thinking) at the output rate, at long-context rates when the input bound passes the
 * threshold, plus the most web searches it can run at their per-use fee.
 */
export function worstCase(
  price: PriceEntry,
  shape: RequestShape,
): { spendMicrousd: number; tokens: number } {
  const window = inputWindow(price, shape.betas);
  const input = shape.externalInput
    ? window
    : Math.min(shape.bodyBytes + INJECTED_INPUT_TOKENS, window);
  const r = ratesFor(price, input);
  const inputRate = shape.usesPromptCache
    ? Math.max(r.input, r.cacheWrite5m, r.cacheWrite1h)
    : r.input;
  const fees = shape.webSearchUses * price.serverToolFees.webSearchPerRequest;
  return {
    spendMicrousd: ceilMicro(input * inputRate + shape.maxTokens * r.output) + fees,
    tokens: input + shape.maxTokens,
  };
}

/**
 * What a request actually cost, in micro-USD (rounded up), from the upstream's usage: its
 * tokens at the rates its total input calls for, plus its web searches' fees. Cache writes
 * without the 5-minute / 1-hour split are billed at the 5-minute rate, as the API does.
 */
export function actualSpend(price: PriceEntry, u: TokenUsage): number {
  const r = ratesFor(price, u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens);
  const split = u.cacheCreation5mInputTokens + u.cacheCreation1hInputTokens;
  const unsplit = Math.max(0, u.cacheCreationInputTokens - split);
  const tokens = ceilMicro(
    u.inputTokens * r.input +
      (u.cacheCreation5mInputTokens + unsplit) * r.cacheWrite5m +
      u.cacheCreation1hInputTokens * r.cacheWrite1h +
      u.cacheReadInputTokens * r.cacheRead +
      u.outputTokens * r.output,
  );
  return tokens + u.webSearchRequests * price.serverToolFees.webSearchPerRequest;
}

/** Tokens a request actually used (what a tokens-per-minute limit counts). */
export function actualTokens(u: TokenUsage): number {
  return u.inputTokens + u.cacheCreationInputTokens + u.cacheReadInputTokens + u.outputTokens;
}
