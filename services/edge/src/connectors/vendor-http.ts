/**
 * One HTTP exchange with a vendor: send, read the body within a size limit, parse JSON when it
 * is JSON. Transport failures surface as `TransportError` with a short, secret-free cause;
 * aborts rethrow the signal's reason so the caller can tell a timeout from a cancellation.
 */
import type { HttpMethod, VendorResponse } from './types.js';

/** Largest vendor body the executor reads; a bigger one is treated as a broken answer. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** A request with its credentials attached. */
export interface OutgoingRequest {
  method: HttpMethod;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The vendor could not be reached or its answer could not be read. */
export class TransportError extends Error {
  override readonly name = 'TransportError';
}

/** Sends one request and reads the answer. */
export async function exchange(
  fetchFn: typeof fetch,
  request: OutgoingRequest,
  signal: AbortSignal,
): Promise<VendorResponse> {
  let response: Response;
  try {
    response = await fetchFn(request.url, {
      method: request.method,
      headers: request.headers,
      ...(request.body === undefined ? {} : { body: request.body }),
      signal,
      redirect: 'follow',
    });
  } catch (err: unknown) {
    if (signal.aborted) throw signal.reason;
    throw new TransportError(transportCause(err));
  }
  let text: string;
  try {
    text = await readCapped(response, MAX_BODY_BYTES);
  } catch (err: unknown) {
    if (signal.aborted) throw signal.reason;
    throw err instanceof TransportError ? err : new TransportError(transportCause(err));
  }
  return { status: response.status, headers: response.headers, body: parseBody(text) };
}

/** The body as JSON when it parses, else the text; `undefined` when empty. */
function parseBody(text: string): unknown {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function readCapped(response: Response, max: number): Promise<string> {
  if (response.body === null) return '';
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new TransportError(`response body over ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A short description of why fetch failed: the system error code when there is one. */
function transportCause(err: unknown): string {
  const cause =
    err instanceof Error
      ? (err.cause as { code?: unknown; message?: unknown } | undefined)
      : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return err instanceof Error ? err.message : 'unknown transport error';
}
