import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ReplyContext } from './http-io.js';
import type { PromptCache } from './prompt-cache.js';
import type { RateLimits } from './rate-limits.js';

/** State shared by all requests of one fake server. */
export interface SandboxState {
  readonly apiKeys: ReadonlySet<string>;
  readonly cache: PromptCache;
  readonly limits: RateLimits;
  /** Aborts when the server closes, ending slow streams and pending waits. */
  readonly signal: AbortSignal;
  /** Delay between streamed events unless a request asks for its own (FAKE_SLOW_STREAM). */
  chunkDelayMs(): number;
}

/** Everything a route handler needs about one request. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly path: string;
  readonly query: string;
  readonly body: Buffer;
  readonly reply: ReplyContext;
  readonly state: SandboxState;
}
