/**
 * The baseline proxy: a bare Node HTTP pass-through to the upstream with keep-alive and no
 * governance at all. What Fortress adds on top of this is the cost of governing.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const upstream = new URL(process.env['UPSTREAM_URL'] ?? 'http://127.0.0.1:1');
const apiKey = process.env['UPSTREAM_API_KEY'] ?? '';
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

const server = http.createServer((req, res) => {
  const out = http.request(
    {
      hostname: upstream.hostname,
      port: upstream.port,
      path: req.url,
      method: req.method,
      agent,
      headers: { ...req.headers, host: upstream.host, 'x-api-key': apiKey },
    },
    (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    },
  );
  out.on('error', () => res.writeHead(502).end());
  req.pipe(out);
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
