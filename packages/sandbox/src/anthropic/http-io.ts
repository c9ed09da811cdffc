import type { IncomingMessage, ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { errorEnvelope, type ApiFailure } from './errors.js';

/** Per-request facts every response needs: its id and whether the client takes gzip. */
export interface ReplyContext {
  readonly requestId: string;
  readonly gzip: boolean;
}

/** A fixed organization id, sent like the real API's `anthropic-organization-id`. */
const ORGANIZATION_ID = '5b3f0c8e-6d1a-4f2b-9c7e-0a1b2c3d4e5f';

/** Whether an `accept-encoding` header admits gzip (a `q=0` refusal counts as no). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const value = (Array.isArray(header) ? header.join(',') : header).toLowerCase();
  if (!value.includes('gzip')) return false;
  return value.split(',').some((part) => {
    const [coding, ...params] = part.trim().split(';');
    if (coding?.trim() !== 'gzip') return false;
    return !params.some((p) => /^\s*q\s*=\s*0(\.0*)?\s*$/.test(p));
  });
}

/** Headers every response carries. */
export function baseHeaders(requestId: string): Record<string, string> {
  return { 'request-id': requestId, 'anthropic-organization-id': ORGANIZATION_ID };
}

/** Sends a JSON body, gzipped when the client accepts it (as the real API does). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  reply: ReplyContext,
  headers?: Readonly<Record<string, string>>,
): void {
  let payload = Buffer.from(JSON.stringify(body));
  const out: Record<string, string | number> = {
    ...baseHeaders(reply.requestId),
    ...headers,
    'content-type': 'application/json',
  };
  if (reply.gzip) {
    payload = gzipSync(payload);
    out['content-encoding'] = 'gzip';
    out['vary'] = 'accept-encoding';
  }
  out['content-length'] = payload.length;
  res.writeHead(status, out);
  res.end(payload);
}

/** Sends the error envelope of a failure with its status and headers. */
export function sendFailure(
  res: ServerResponse,
  f: ApiFailure,
  reply: ReplyContext,
  headers?: Readonly<Record<string, string>>,
): void {
  sendJson(res, f.status, errorEnvelope(f, reply.requestId), reply, { ...headers, ...f.headers });
}

/** Reads the body; one over `limit` bytes is drained, dropped (recorded empty) and flagged. */
export function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<{ body: Buffer; tooLarge: boolean }> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else chunks = [];
    });
    req.once('end', () => resolve({ body: Buffer.concat(chunks), tooLarge: size > limit }));
    req.once('error', reject);
  });
}

/** Request headers as one string per (lowercased) name; repeats joined with ", ". */
export function flatHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
