import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createConnectorFetch, TargetRefusedError } from '../../src/connectors/guarded-fetch.js';

/** The refusal inside a fetch failure (undici wraps connect errors in `cause`). */
const refusal = (err: unknown): unknown =>
  err instanceof TargetRefusedError ? err : (err as { cause?: unknown }).cause;

describe('connector fetch (SSRF guard)', () => {
  let server: http.Server;
  let port: number;
  let hits = 0;

  before(async () => {
    server = http.createServer((_req, res) => {
      hits++;
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const production = createConnectorFetch('production');
  const cases = [
    { name: 'plain http', url: 'http://127.0.0.1:8443/' },
    { name: 'loopback by address', url: 'https://127.0.0.1:8443/' },
    { name: 'loopback by name', url: 'https://localhost:8443/' },
    { name: 'cloud metadata (link-local)', url: 'https://169.254.169.254/latest/meta-data/' },
    { name: 'a private network', url: 'https://10.1.2.3/' },
    { name: 'IPv6 loopback', url: 'https://[::1]:8443/' },
    { name: 'IPv4-mapped private IPv6', url: 'https://[::ffff:10.0.0.1]/' },
  ];
  for (const c of cases) {
    it(`refuses ${c.name} in production`, async () => {
      const before = hits;
      await assert.rejects(production(c.url), (err: unknown) => {
        assert.ok(refusal(err) instanceof TargetRefusedError, String(err));
        return true;
      });
      assert.equal(hits, before, 'nothing was sent');
    });
  }

  it('lets the local sandbox through in development', async () => {
    const res = await createConnectorFetch('development')(`http://127.0.0.1:${port}/`);
    assert.equal(res.status, 200);
  });
});
