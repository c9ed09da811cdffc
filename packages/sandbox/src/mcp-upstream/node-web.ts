import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body the fake reads; MCP requests are small. */
const MAX_BODY = 1024 * 1024;

/** A request's body as text, or undefined when it is larger than the fake accepts. */
export async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The node request as a web-standard Request (the SDK's server transports speak those). */
export function toWebRequest(req: IncomingMessage, url: string, body: string): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  return new Request(url, {
    method,
    headers,
    ...(method === 'GET' || method === 'HEAD' ? {} : { body }),
  });
}

/** Writes a web Response to the node response, streaming the body (SSE included). */
export async function sendWebResponse(response: Response, res: ServerResponse): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body === null) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  // A client that goes away must not leave an SSE stream being read for nobody.
  res.once('close', () => void reader.cancel().catch(() => undefined));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value); // messages are small: no backpressure to respect
    }
  } catch {
    // The stream was cancelled because the client left; nothing to send to.
  } finally {
    res.end();
  }
}

/** A JSON-RPC error answer with no id, as the SDKs' transports send before any dispatch. */
export function sendRpcError(
  res: ServerResponse,
  answer: { status: number; code: number; message: string },
): void {
  res.writeHead(answer.status, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      jsonrpc: '2.0',
      error: { code: answer.code, message: answer.message },
      id: null,
    }),
  );
}
