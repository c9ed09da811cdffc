import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';

/** Request headers a client may send that we pass upstream; never credentials or hop headers. */
const FORWARDED_REQUEST_HEADERS =
  /^(anthropic-(?!.*key)[a-z0-9-]+|content-type|accept|accept-encoding|user-agent|x-stainless-[a-z0-9-]+)$/;

/** Response headers we pass back; the body is passed back byte for byte. */
const FORWARDED_RESPONSE_HEADERS =
  /^(content-type|content-encoding|content-length|request-id|retry-after|x-should-retry|anthropic-[a-z0-9-]+|cache-control)$/;

/** Picks the client headers that may travel upstream. */
export function upstreamHeaders(client: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(client)) {
    if (value !== undefined && FORWARDED_REQUEST_HEADERS.test(name)) {
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return out;
}

/** Picks the upstream response headers that go back to the client. */
export function clientHeaders(upstream: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(upstream)) {
    if (value !== undefined && FORWARDED_RESPONSE_HEADERS.test(name)) {
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  return out;
}

/** One request to forward. */
export interface ForwardRequest {
  /** Path and query, e.g. "/v1/messages?beta=true". */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** The real Anthropic key, sent the way the API expects it (x-api-key). */
  apiKey: string;
  signal: AbortSignal;
}

/**
 * The upstream Anthropic API over keep-alive connections. The response is returned
 * unconsumed so its bytes can be piped to the client unchanged.
 */
export function createAnthropicUpstream(options: { baseUrl: string; timeoutMs: number }) {
  const base = new URL(options.baseUrl);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 256 })
    : new http.Agent({ keepAlive: true, maxSockets: 256 });
  const prefix = base.pathname.replace(/\/$/, '');
  return {
    forward(req: ForwardRequest): Promise<IncomingMessage> {
      return new Promise((resolve, reject) => {
        const outgoing = (secure ? https : http).request(
          {
            protocol: base.protocol,
            hostname: base.hostname,
            port: base.port,
            path: prefix + req.path,
            method: 'POST',
            agent,
            signal: req.signal,
            timeout: options.timeoutMs,
            headers: {
              ...req.headers,
              'x-api-key': req.apiKey,
              'content-length': String(req.body.length),
            },
          },
          resolve,
        );
        outgoing.on('timeout', () => outgoing.destroy(new Error('upstream timed out')));
        outgoing.on('error', reject);
        outgoing.end(req.body);
      });
    },
    close(): void {
      agent.destroy();
    },
  };
}

/** The upstream client. */
export type AnthropicUpstream = ReturnType<typeof createAnthropicUpstream>;
