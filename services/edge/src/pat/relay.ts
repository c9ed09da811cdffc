import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Histogram } from '@opentelemetry/api';
import type { Logger } from '@fortress/kit/log';
import type { RequestFacts } from '../chain/decision-chain.js';
import { errors, sendAnthropicError } from '../http/anthropic-error.js';
import {
  clientHeaders,
  upstreamHeaders,
  type AnthropicUpstream,
} from '../upstream/anthropic-upstream.js';
import type { RequestEnd } from './admission.js';
import { createUsageTap, type TappedUsage } from './usage-tap.js';

/** What relaying needs. */
export interface RelayDeps {
  upstream: AnthropicUpstream;
  logger: Logger;
  stages: Histogram;
}

/** The response body as the client received it, kept for the archive. */
export interface CollectedResponse {
  body: Buffer;
  truncated: boolean;
  contentType: string;
  contentEncoding: string;
}

/** How a relayed exchange ended, with what the tap read from the response. */
export type RelayEnd = Omit<RequestEnd, 'price' | 'tokens' | 'exchange'> & {
  tapped?: TappedUsage;
  /** The response body, when asked to collect it. */
  response?: CollectedResponse;
};

/**
 * Sends an admitted request upstream with the real key and streams the response back byte for
 * byte (only headers are added), reading usage from a tap on the way. If the client goes
 * away, the upstream request is aborted. `onEnd` is called exactly once, however it ends.
 */
export async function relay(
  deps: RelayDeps,
  req: IncomingMessage,
  res: ServerResponse,
  facts: RequestFacts,
  forward: {
    method: 'GET' | 'POST';
    path: string;
    body?: Buffer;
    apiKey: string;
    /** Keep up to this many bytes of the response body for the archive (0: none). */
    collectBytes?: number;
  },
  onEnd: (end: RelayEnd) => void,
): Promise<void> {
  const abort = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) abort.abort();
  });
  const started = performance.now();
  let upstream: IncomingMessage;
  try {
    upstream = await deps.upstream.forward({
      method: forward.method,
      path: forward.path,
      // The request id lets the upstream's logs be joined to ours; it carries nothing else.
      headers: { ...upstreamHeaders(req.headers), 'x-fortress-request-id': facts.requestId },
      ...(forward.body ? { body: forward.body } : {}),
      apiKey: forward.apiKey,
      signal: abort.signal,
    });
  } catch (err) {
    const aborted = abort.signal.aborted;
    deps.logger.warn({ err, requestId: facts.requestId, aborted }, 'upstream request failed');
    const e = errors.upstreamUnavailable();
    if (!aborted) sendAnthropicError(res, facts.requestId, e);
    onEnd({
      statusCode: aborted ? 499 : e.status,
      errorType: 'upstream_unavailable',
      clientAborted: aborted,
    });
    return;
  }

  const tap = createUsageTap(
    String(upstream.headers['content-type'] ?? ''),
    String(upstream.headers['content-encoding'] ?? ''),
  );
  res.writeHead(upstream.statusCode ?? 502, {
    ...clientHeaders(upstream.headers),
    'x-fortress-request-id': facts.requestId,
  });
  const keep = forward.collectBytes ?? 0;
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let truncated = false;
  let ended = false;
  let interrupted = false;
  const end = (clientAborted: boolean) => {
    if (ended) return;
    ended = true;
    const upstreamUs = Math.round((performance.now() - started) * 1000);
    deps.stages.record(upstreamUs / 1000, { stage: 'upstream' });
    onEnd({
      statusCode: clientAborted ? 499 : (upstream.statusCode ?? 0),
      ...(interrupted && !clientAborted ? { errorType: 'upstream_interrupted' } : {}),
      upstreamLatencyUs: upstreamUs,
      tapped: tap.read(),
      upstreamRequestId: String(upstream.headers['request-id'] ?? ''),
      clientAborted,
      ...(keep > 0
        ? {
            response: {
              body: Buffer.concat(kept, keptBytes),
              truncated,
              contentType: String(upstream.headers['content-type'] ?? ''),
              contentEncoding: String(upstream.headers['content-encoding'] ?? ''),
            },
          }
        : {}),
    });
  };
  upstream.on('data', (chunk: Buffer) => {
    tap.write(chunk);
    if (keep > 0) {
      const room = keep - keptBytes;
      if (chunk.length > room) truncated = true;
      if (room > 0) {
        const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
        kept.push(part);
        keptBytes += part.length;
      }
    }
    if (!res.write(chunk)) {
      upstream.pause();
      res.once('drain', () => upstream.resume());
    }
  });
  upstream.on('end', () => {
    res.end();
    end(false);
  });
  upstream.on('error', (err) => {
    interrupted = true;
    if (!abort.signal.aborted) {
      deps.logger.warn({ err, requestId: facts.requestId }, 'upstream response interrupted');
    }
    res.destroy();
  });
  // However the response stops (end, error, or the client going away), it is accounted for.
  upstream.on('close', () => end(abort.signal.aborted));
}
