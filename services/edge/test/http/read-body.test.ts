import assert from 'node:assert/strict';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { BodyTooLargeError, readBody } from '../../src/http/read-body.js';
import { send, startServer } from '../support/http-server.js';

const LIMIT = 64 * 1024;

/** What readBody did on the server for one request. */
interface Outcome {
  body?: Buffer;
  error?: unknown;
  requestDestroyed?: boolean;
}

/**
 * A server that reads each body with the limit and answers 200 with its length, or 413 as the
 * Messages route does. `outcome` resolves with what readBody did.
 */
async function bodyServer() {
  let settle: (o: Outcome) => void = () => undefined;
  let outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const server = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req, LIMIT);
      settle({ body });
      res.end(String(body.length));
    } catch (error) {
      settle({ error, requestDestroyed: req.destroyed });
      res.setHeader('connection', 'close');
      res.writeHead(413).end('too large');
    }
  });
  return {
    port: server.port,
    close: () => server.close(),
    next(): Promise<Outcome> {
      const current = outcome;
      outcome = new Promise<Outcome>((resolve) => (settle = resolve));
      return current;
    },
  };
}

/** Writes `total` bytes in 16 KiB chunks, honouring backpressure, then ends (unless the request dies first). */
function pump(req: ClientRequest, total: number): void {
  const chunk = Buffer.alloc(16 * 1024, 0x61);
  let sent = 0;
  const more = (): void => {
    while (sent < total && !req.destroyed) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      if (!req.write(chunk.subarray(0, n))) {
        req.once('drain', more);
        return;
      }
    }
    if (!req.destroyed) req.end();
  };
  req.on('error', () => undefined);
  more();
}

describe('readBody', () => {
  let server: Awaited<ReturnType<typeof bodyServer>>;
  before(async () => {
    server = await bodyServer();
  });
  after(() => server.close());

  const fits = [
    { name: 'an empty body', size: 0, chunked: false },
    { name: 'a small body with content-length', size: 1000, chunked: false },
    { name: 'a body of exactly the limit with content-length', size: LIMIT, chunked: false },
    { name: 'a chunked body of exactly the limit', size: LIMIT, chunked: true },
  ];
  for (const c of fits) {
    it(`returns ${c.name} whole`, async () => {
      const payload = Buffer.alloc(c.size, 0x62);
      const headers = c.chunked
        ? { 'transfer-encoding': 'chunked' }
        : { 'content-length': String(c.size) };
      const seen = await send(server.port, { headers }, (req) => req.end(payload));
      const outcome = await server.next();
      assert.deepEqual(outcome.body, payload);
      assert.equal(seen.status, 200);
      assert.equal(seen.body, String(c.size));
    });
  }

  it('refuses a declared content-length over the limit before any body arrives', async () => {
    // Only the headers are sent: the refusal must not wait for the body.
    let request: ClientRequest | undefined;
    const seen = await send(
      server.port,
      { headers: { 'content-length': String(LIMIT + 1) } },
      (req) => {
        request = req;
        req.flushHeaders();
      },
    );
    const outcome = await server.next();
    assert.ok(outcome.error instanceof BodyTooLargeError);
    assert.equal(seen.status, 413);
    request?.destroy();
  });

  it('refuses a chunked body one byte over the limit', async () => {
    const seen = await send(server.port, { headers: { 'transfer-encoding': 'chunked' } }, (req) =>
      pump(req, LIMIT + 1),
    );
    const outcome = await server.next();
    assert.ok(outcome.error instanceof BodyTooLargeError);
    assert.equal(seen.status, 413);
  });

  it('stops reading a large chunked body once it crosses the limit and still answers 413', async () => {
    const seen = await send(server.port, { headers: { 'transfer-encoding': 'chunked' } }, (req) =>
      pump(req, 32 * 1024 * 1024),
    );
    const outcome = await server.next();
    assert.ok(outcome.error instanceof BodyTooLargeError);
    assert.equal(outcome.requestDestroyed, true, 'the request stream must be closed, not drained');
    assert.equal(seen.status, 413);
  });
});
