import { failure, type ApiFailure } from './errors.js';

/**
 * Test hooks: magic strings a test writes into the text of the last user message of a
 * `POST /v1/messages` to make the fake misbehave on purpose (count_tokens ignores them).
 *
 * | string                       | effect                                                       |
 * |------------------------------|--------------------------------------------------------------|
 * | FAKE_RATE_LIMIT              | 429 rate_limit_error, `retry-after: 7`, requests-remaining 0 |
 * | FAKE_OVERLOADED              | 529 overloaded_error "Overloaded"                            |
 * | FAKE_API_ERROR               | 500 api_error                                                |
 * | FAKE_INVALID_REQUEST         | 400 invalid_request_error                                    |
 * | FAKE_PERMISSION_DENIED       | 403 permission_error                                         |
 * | FAKE_REQUEST_TOO_LARGE       | 413 request_too_large                                        |
 * | FAKE_OVERLOADED_MIDSTREAM    | streaming: 200, a few events, then `event: error`            |
 * |                              | (overloaded_error) and the stream ends; non-streaming: 529   |
 * | FAKE_UNKNOWN_EVENT           | streaming: an `event: fortune_cookie` after message_start    |
 * | FAKE_SLOW_STREAM[:ms]        | streaming: wait ms (default 50) between events               |
 * | FAKE_TOOL_USE                | like the word "weather": answer with a tool_use block        |
 * | FAKE_WEB_SEARCH[:n]          | with a web_search_* tool: run n searches (default 1, capped  |
 * |                              | by its max_uses) before answering, billed in server_tool_use |
 *
 * Matching is case-sensitive and on whole tokens, so FAKE_OVERLOADED does not fire inside
 * FAKE_OVERLOADED_MIDSTREAM.
 */
export const MAGIC = {
  rateLimit: 'FAKE_RATE_LIMIT',
  overloaded: 'FAKE_OVERLOADED',
  apiError: 'FAKE_API_ERROR',
  invalidRequest: 'FAKE_INVALID_REQUEST',
  permissionDenied: 'FAKE_PERMISSION_DENIED',
  requestTooLarge: 'FAKE_REQUEST_TOO_LARGE',
  overloadedMidstream: 'FAKE_OVERLOADED_MIDSTREAM',
  unknownEvent: 'FAKE_UNKNOWN_EVENT',
  slowStream: 'FAKE_SLOW_STREAM',
  toolUse: 'FAKE_TOOL_USE',
  webSearch: 'FAKE_WEB_SEARCH',
} as const;

/** Seconds the FAKE_RATE_LIMIT response asks the client to wait. */
export const RETRY_AFTER_SECONDS = 7;

/** The overloaded error, as sent with HTTP 529 or as a mid-stream `error` event. */
export const OVERLOADED: ApiFailure = failure(529, 'overloaded_error', 'Overloaded');

/** What the magic strings in a message ask for. */
export interface Triggers {
  readonly failure: ApiFailure | undefined;
  readonly midstreamError: boolean;
  readonly unknownEvent: boolean;
  /** Per-event delay asked for by FAKE_SLOW_STREAM, when present. */
  readonly chunkDelayMs: number | undefined;
  readonly toolUse: boolean;
  /** Searches asked for by FAKE_WEB_SEARCH, when present (run only if a web search tool is). */
  readonly webSearches: number | undefined;
}

const NONE: Triggers = {
  failure: undefined,
  midstreamError: false,
  unknownEvent: false,
  chunkDelayMs: undefined,
  toolUse: false,
  webSearches: undefined,
};

const FAILURES: ReadonlyArray<readonly [RegExp, ApiFailure]> = [
  [
    word(MAGIC.rateLimit),
    failure(
      429,
      'rate_limit_error',
      'Number of request tokens has exceeded your per-minute rate limit',
      { 'retry-after': String(RETRY_AFTER_SECONDS) },
    ),
  ],
  [word(MAGIC.overloaded), OVERLOADED],
  [word(MAGIC.apiError), failure(500, 'api_error', 'Internal server error')],
  [
    word(MAGIC.invalidRequest),
    failure(
      400,
      'invalid_request_error',
      `messages: request rejected by the sandbox (${MAGIC.invalidRequest})`,
    ),
  ],
  [
    word(MAGIC.permissionDenied),
    failure(
      403,
      'permission_error',
      'Your API key does not have permission to use the specified resource.',
    ),
  ],
  [
    word(MAGIC.requestTooLarge),
    failure(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'),
  ],
];
const SLOW = new RegExp(`\\b${MAGIC.slowStream}(?::(\\d{1,6}))?\\b`);
const MIDSTREAM = word(MAGIC.overloadedMidstream);
const UNKNOWN_EVENT = word(MAGIC.unknownEvent);
const TOOL_USE = word(MAGIC.toolUse);
const WEB_SEARCH = new RegExp(`\\b${MAGIC.webSearch}(?::(\\d{1,3}))?\\b`);
const DEFAULT_SLOW_MS = 50;
const DEFAULT_WEB_SEARCHES = 1;

/** Reads the magic strings out of the last user message's text. */
export function readTriggers(text: string): Triggers {
  // Hot path: ordinary prompts never contain the prefix, so skip the regexes.
  if (!text.includes('FAKE_')) return NONE;
  const slow = SLOW.exec(text);
  const search = WEB_SEARCH.exec(text);
  return {
    failure: FAILURES.find(([pattern]) => pattern.test(text))?.[1],
    midstreamError: MIDSTREAM.test(text),
    unknownEvent: UNKNOWN_EVENT.test(text),
    chunkDelayMs: slow === null ? undefined : Number(slow[1] ?? DEFAULT_SLOW_MS),
    toolUse: TOOL_USE.test(text),
    webSearches: search === null ? undefined : Number(search[1] ?? DEFAULT_WEB_SEARCHES),
  };
}

function word(magic: string): RegExp {
  return new RegExp(`\\b${magic}\\b`);
}
