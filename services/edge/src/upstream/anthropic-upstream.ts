import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { READABLE_ENCODINGS } from '../pat/usage-tap.js';

/**
 * Request headers a client may send that we pass upstream: an explicit list, so no credential
 * or hop-by-hop header can travel by accident. accept-encoding is narrowed separately.
 */
const FORWARDED_REQUEST_HEADERS =
  /^(anthropic-version|anthropic-beta|content-type|accept|user-agent|x-stainless-[a-z0-9-]+)$/;

/**
 * Response headers we pass back (the body is passed back byte for byte). Not everything
 * `anthropic-*`: e.g. anthropic-organization-id names Fortress's own upstream account.
 */
const FORWARDED_RESPONSE_HEADERS =
  /^(content-type|content-encoding|content-length|request-id|retry-after|x-should-retry|anthropic-ratelimit-[a-z0-9-]+|cache-control)$/;

/** The client's accept-encoding narrowed to codings the usage tap can read (else identity). */
function readableAcceptEncoding(value: string): string | undefined {
  const kept = value
    .split(',')
    .map((part) => part.trim())
    .filter((part) =>
      (READABLE_ENCODINGS as readonly string[]).includes(
        part.split(';')[0]?.trim().toLowerCase() ?? '',
      ),
    );
  return kept.length ? kept.join(', ') : undefined;
}

/** Picks the client headers that may travel upstream. */
export function upstreamHeaders(client: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(client)) {
    if (value !== undefined && FORWARDED_REQUEST_HEADERS.test(name)) {
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
  }
  const encoding = client['accept-encoding'];
  const readable = encoding === undefined ? undefined : readableAcceptEncoding(String(encoding));
  if (readable) out['accept-encoding'] = readable;
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
  method: 'GET' | 'POST';
  /** Path and query, e.g. "/v1/messages?beta=true". */
  path: string;
  headers: Record<string, string>;
  /** The body of a POST. */
  body?: Buffer;
  /** The real Anthropic key, sent the way the API expects it (x-api-key). */
  apiKey: string;
  signal: AbortSignal;
}

/**
 * The upstream Anthropic API over keep-alive connections. The response is returned
 * unconsumed so its bytes can be piped to the client unchanged.
 */
export function createAnthropicUpstream(options: {
  baseUrl: string;
  timeoutMs: number;
  /** Connections to the upstream at most (one per request in flight); 0 for no limit. */
  maxSockets?: number;
}) {
  const base = new URL(options.baseUrl);
  const secure = base.protocol === 'https:';
  // Every request in flight, a long stream included, holds its own connection: a low limit
  // would queue streams behind each other inside the edge.
  const agentOptions = { keepAlive: true, maxSockets: options.maxSockets || Infinity };
  const agent = secure ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
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
            method: req.method,
            agent,
            signal: req.signal,
            timeout: options.timeoutMs,
            headers: {
              ...req.headers,
              'x-api-key': req.apiKey,
              ...(req.body ? { 'content-length': String(req.body.length) } : {}),
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
