/**
 * The sandbox upstream: a fake of api.anthropic.com on loopback for the local stack, tests and
 * benchmarks. It speaks the wire format of the installed official SDK closely enough that the
 * SDK cannot tell the difference:
 *
 * - `POST /v1/messages` (any query, e.g. `?beta=true`): validation and error envelopes of the
 *   real API, deterministic replies (echo, tool_use, tool_result answers, thinking, citations),
 *   token and prompt-cache usage, JSON (gzipped on request) or SSE streams.
 * - `POST /v1/messages/count_tokens`, `GET /v1/models`, `GET /v1/models/{id}`.
 * - Keys in `x-api-key` or `Authorization: Bearer`; `anthropic-version` required.
 * - `request-id` on every response; `anthropic-ratelimit-*` on messages responses.
 * - Magic strings in the last user message force errors and stream oddities: magic-strings.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { REQUEST_TOO_LARGE, failure } from './errors.js';
import { acceptsGzip, flatHeaders, readBody, sendFailure, type ReplyContext } from './http-io.js';
import { newRequestId } from './ids.js';
import { createPromptCache } from './prompt-cache.js';
import { createRateLimits } from './rate-limits.js';
import type { SandboxState } from './route-context.js';
import { route } from './routes.js';

/** The logger the fake writes to; a pino logger fits. It never receives keys or bodies. */
export interface SandboxLogger {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
  debug?(fields: object, message: string): void;
}

/** Options of {@link startFakeAnthropic}. */
export interface FakeAnthropicOptions {
  /** Interface to bind; loopback by default. */
  readonly host?: string;
  /** Port to bind; 0 (the default) picks a free one. */
  readonly port?: number;
  /** Keys the fake accepts, in `x-api-key` or `Authorization: Bearer`. */
  readonly apiKeys: readonly string[];
  /** Delay before every response starts, like model latency. Default 0. */
  readonly latencyMs?: number;
  /** Delay between streamed events. Default 0 (one event per event-loop turn). */
  readonly chunkDelayMs?: number;
  /** Largest accepted body; bigger gets 413 request_too_large. Default 32 MiB, the real limit. */
  readonly maxBodyBytes?: number;
  /** How many requests `requests` keeps, oldest dropped first; 0 records none. Default 1000. */
  readonly recordLimit?: number;
  readonly logger?: SandboxLogger;
}

/** A request as the fake received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The raw query string without `?` (e.g. `beta=true`), empty when there is none. */
  readonly query: string;
  /** Header names lowercased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Epoch milliseconds. */
  readonly receivedAt: number;
}

/** A running fake Anthropic API. */
export interface FakeAnthropic {
  /** Base URL without `/v1`, e.g. `http://127.0.0.1:40123`: pass it as the SDK's `baseURL`. */
  readonly url: string;
  readonly port: number;
  /** Requests received so far, oldest first (a live view). */
  readonly requests: readonly RecordedRequest[];
  clearRequests(): void;
  setLatency(ms: number): void;
  setChunkDelay(ms: number): void;
  /** Stops listening and drops open connections, in-flight streams included. */
  close(): Promise<void>;
}

const DEFAULT_MAX_BODY = 32 * 1024 * 1024;
const INTERNAL_ERROR = failure(500, 'api_error', 'Internal server error');

/** Starts a fake of the Anthropic API (Messages, count_tokens, Models) on node:http. */
export async function startFakeAnthropic(options: FakeAnthropicOptions): Promise<FakeAnthropic> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const recordLimit = options.recordLimit ?? 1000;
  const logger = options.logger;
  const closing = new AbortController();
  const requests: RecordedRequest[] = [];
  let latencyMs = options.latencyMs ?? 0;
  let chunkDelayMs = options.chunkDelayMs ?? 0;
  const state: SandboxState = {
    apiKeys: new Set(options.apiKeys),
    cache: createPromptCache(),
    limits: createRateLimits(),
    signal: closing.signal,
    chunkDelayMs: () => chunkDelayMs,
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const receivedAt = Date.now();
    const reply: ReplyContext = {
      requestId: newRequestId(),
      gzip: acceptsGzip(req.headers['accept-encoding']),
    };
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = q < 0 ? '' : rawUrl.slice(q + 1);
    if (logger?.debug !== undefined) {
      const debug = logger.debug.bind(logger);
      res.once('close', () =>
        debug(
          {
            method: req.method,
            path,
            status: res.statusCode,
            requestId: reply.requestId,
            durationMs: Math.round(performance.now() - started),
          },
          'sandbox anthropic request',
        ),
      );
    }
    try {
      const { body, tooLarge } = await readBody(req, maxBody);
      if (recordLimit > 0) {
        if (requests.length >= recordLimit) requests.shift();
        requests.push({
          method: req.method ?? 'GET',
          path,
          query,
          headers: flatHeaders(req),
          body,
          receivedAt,
        });
      }
      if (tooLarge) return sendFailure(res, REQUEST_TOO_LARGE, reply, { connection: 'close' });
      if (latencyMs > 0) await sleep(latencyMs, undefined, { signal: closing.signal });
      await route({ req, res, path, query, body, reply, state });
    } catch (err: unknown) {
      if (closing.signal.aborted) {
        res.destroy();
        return;
      }
      logger?.error(
        { err: err instanceof Error ? err.message : String(err), path, requestId: reply.requestId },
        'sandbox anthropic request failed',
      );
      if (!res.headersSent) sendFailure(res, INTERNAL_ERROR, reply);
      else res.destroy();
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  logger?.info({ url, port }, 'sandbox anthropic listening');

  return {
    url,
    port,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setChunkDelay: (ms) => {
      chunkDelayMs = ms;
    },
    close: async () => {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      logger?.info({ url }, 'sandbox anthropic closed');
    },
  };
}
