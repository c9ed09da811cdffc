import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureCerts } from '@fortress/harness/certs/certs';
import { postWebhook } from '../../../src/adapters/http/post-webhook.js';
import { startReceiver, type Receiver } from '../../support/webhook-receiver.js';

describe('postWebhook', () => {
  let receiver: Receiver;
  before(async () => (receiver = await startReceiver()));
  after(() => receiver.close());

  const post = (url: string, address = '127.0.0.1', timeoutMs = 2000) =>
    postWebhook({
      url: new URL(url),
      address: { address, family: 4 },
      headers: { 'content-type': 'application/json', 'webhook-id': 'evt-1' },
      body: '{"a":1}',
      timeoutMs,
    });

  it('connects to the checked address, never resolving the host name again', async () => {
    // "rebind.invalid" resolves nowhere (RFC 6761): only the pinned address can be reached.
    const r = await post(`http://rebind.invalid:${receiver.port}/hooks`);
    assert.equal((r as { status: number }).status, 204);
    const got = receiver.received.at(-1);
    assert.equal(got?.body, '{"a":1}');
    assert.equal(got?.headers.host, `rebind.invalid:${receiver.port}`);
    assert.equal(got?.headers['content-length'], '7');
  });

  it('returns the status of a non-2xx answer and follows no redirect', async () => {
    receiver.respond = () => ({ status: 307, headers: { location: 'http://127.0.0.1:1/' } });
    try {
      const r = await post(`http://127.0.0.1:${receiver.port}/hooks`);
      assert.equal((r as { status: number }).status, 307);
    } finally {
      receiver.respond = () => ({ status: 204 });
    }
  });

  it('classifies a refused connection and a timeout', async () => {
    const closed = await startReceiver();
    const port = closed.port;
    await closed.close();
    assert.equal(
      ((await post(`http://127.0.0.1:${port}/`)) as { error: string }).error,
      'connection_refused',
    );
    receiver.respond = () => undefined;
    try {
      const r = await post(`http://127.0.0.1:${receiver.port}/hooks`, '127.0.0.1', 200);
      assert.equal((r as { error: string }).error, 'timeout');
    } finally {
      receiver.respond = () => ({ status: 204 });
    }
  });

  it("verifies the receiver's certificate: one from an unknown CA is a tls_error", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fortress-webhook-tls-'));
    const certs = await ensureCerts({ dir, services: ['hooks'] });
    const files = certs.services['hooks'];
    assert.ok(files);
    const server = createServer(
      { cert: await readFile(files.certFile), key: await readFile(files.keyFile) },
      (_req, res) => res.writeHead(204).end(),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const r = await post(`https://localhost:${port}/hooks`);
      assert.equal((r as { error: string }).error, 'tls_error');
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
