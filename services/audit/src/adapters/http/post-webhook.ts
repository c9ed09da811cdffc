import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import type { ResolvedAddress } from '../dns/resolve-target.js';

/** What one POST came to: a status, or the class of error that prevented one. */
export type PostResult =
  { status: number; latencyMs: number } | { error: PostError; latencyMs: number };

/** Why no status came back. Stable strings: they are stored in the delivery log. */
export type PostError =
  | 'timeout'
  | 'connection_refused'
  | 'connection_reset'
  | 'dns_failed'
  | 'tls_error'
  | 'network_error';

/** One POST of a webhook. */
export interface PostRequest {
  url: URL;
  /** The checked address to connect to, whatever the host name resolves to now. */
  address: ResolvedAddress;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Set to stop early (shutdown). */
  signal?: AbortSignal;
}

/** The most response body read (and thrown away) before the connection is dropped. */
const MAX_RESPONSE_BYTES = 64 * 1024;

function classify(err: unknown, timedOut: boolean): PostError {
  if (timedOut) return 'timeout';
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return 'network_error';
  if (code === 'ECONNREFUSED') return 'connection_refused';
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'UND_ERR_SOCKET')
    return 'connection_reset';
  if (code === 'ETIMEDOUT') return 'timeout';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'dns_failed';
  if (/CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) return 'tls_error';
  return 'network_error';
}

/**
 * POSTs a webhook to `address` — the one the caller checked — with TLS still verified against
 * the URL's host name (SNI and certificate), never following a redirect (a 3xx is a status
 * like any other), within `timeoutMs` for the whole exchange. Never throws.
 */
export function postWebhook(req: PostRequest): Promise<PostResult> {
  const started = performance.now();
  const latencyMs = () => Math.round(performance.now() - started);
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
  // The connection goes to the checked address: the host name is never resolved again.
  const pinned: LookupFunction = (_host, options, callback) => {
    const { address, family } = req.address;
    if ((options as { all?: boolean }).all)
      (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, [req.address]);
    else callback(null, address, family);
  };
  const send = req.url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolve) => {
    let settled = false;
    const settle = (r: PostResult) => {
      if (settled) return;
      settled = true;
      resolve(r);
    };
    const fail = (err: unknown) =>
      settle({ error: classify(err, timeout.aborted), latencyMs: latencyMs() });
    const r = send(req.url, {
      method: 'POST',
      headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
      lookup: pinned,
      // A fresh connection per attempt: a pooled socket could outlive the check it was made under.
      agent: false,
      signal,
    });
    r.on('response', (res: IncomingMessage) => {
      // The status is the answer; the body is read (up to a bound) and dropped only so the
      // exchange ends cleanly, within the same timeout.
      settle({ status: res.statusCode ?? 0, latencyMs: latencyMs() });
      let read = 0;
      res.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_RESPONSE_BYTES) res.destroy();
      });
      res.on('error', () => undefined);
    });
    r.on('error', fail);
    r.end(req.body);
  });
}
