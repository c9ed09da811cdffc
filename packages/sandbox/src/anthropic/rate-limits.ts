/** Per-minute limits the fake advertises, shaped like a mid-tier real organization's. */
export interface RateLimitSettings {
  readonly requestsPerMinute: number;
  readonly inputTokensPerMinute: number;
  readonly outputTokensPerMinute: number;
}

/** Counts usage in one-minute windows and renders the `anthropic-ratelimit-*` headers. */
export interface RateLimits {
  countRequest(now: number): void;
  countTokens(input: number, output: number, now: number): void;
  headers(now: number, exhausted?: boolean): Record<string, string>;
}

const DEFAULT_SETTINGS: RateLimitSettings = {
  requestsPerMinute: 4_000,
  inputTokensPerMinute: 2_000_000,
  outputTokensPerMinute: 400_000,
};
const WINDOW_MS = 60_000;

/**
 * Creates the advisory rate-limit counters. The fake never enforces them (FAKE_RATE_LIMIT
 * produces a 429 on demand); it only reports them like the real API: limits, what remains
 * (token counts rounded down to the thousand) and RFC 3339 reset times.
 */
export function createRateLimits(settings: RateLimitSettings = DEFAULT_SETTINGS): RateLimits {
  let windowStart = 0;
  let requests = 0;
  let input = 0;
  let output = 0;

  function roll(now: number): void {
    const start = now - (now % WINDOW_MS);
    if (start === windowStart) return;
    windowStart = start;
    requests = 0;
    input = 0;
    output = 0;
  }

  return {
    countRequest(now) {
      roll(now);
      requests += 1;
    },
    countTokens(inputTokens, outputTokens, now) {
      roll(now);
      input += inputTokens;
      output += outputTokens;
    },
    headers(now, exhausted = false) {
      roll(now);
      const reset = new Date(windowStart + WINDOW_MS).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const tokensLimit = settings.inputTokensPerMinute + settings.outputTokensPerMinute;
      const left = (limit: number, used: number): string =>
        String(Math.max(0, Math.floor((limit - used) / 1000) * 1000));
      return {
        'anthropic-ratelimit-requests-limit': String(settings.requestsPerMinute),
        'anthropic-ratelimit-requests-remaining': exhausted
          ? '0'
          : String(Math.max(0, settings.requestsPerMinute - requests)),
        'anthropic-ratelimit-requests-reset': reset,
        'anthropic-ratelimit-input-tokens-limit': String(settings.inputTokensPerMinute),
        'anthropic-ratelimit-input-tokens-remaining': left(settings.inputTokensPerMinute, input),
        'anthropic-ratelimit-input-tokens-reset': reset,
        'anthropic-ratelimit-output-tokens-limit': String(settings.outputTokensPerMinute),
        'anthropic-ratelimit-output-tokens-remaining': left(settings.outputTokensPerMinute, output),
        'anthropic-ratelimit-output-tokens-reset': reset,
        'anthropic-ratelimit-tokens-limit': String(tokensLimit),
        'anthropic-ratelimit-tokens-remaining': left(tokensLimit, input + output),
        'anthropic-ratelimit-tokens-reset': reset,
      };
    },
  };
}
