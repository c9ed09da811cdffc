/**
 * Runs Portkey's open-source gateway (`@portkey-ai/gateway`, its own `build/start-server.js`,
 * unmodified) bound to loopback only. Its server calls `listen(port, undefined, cb)`, i.e. all
 * interfaces; this wrapper replaces `net.Server.prototype.listen` before loading it so that
 * every listen becomes `{ port, host: '127.0.0.1' }`, then checks the bound address and prints
 * one marker line with the port (Portkey prints its own banner on stdout too). It also works
 * around one known Portkey bug for streams (below).
 * Usage: node --import tsx bench/portkey-server.ts --port=0 --headless
 */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

const READY_MARKER = 'PORTKEY_LOOPBACK_READY ';
const HOST = '127.0.0.1';

type Listen = (this: net.Server, ...args: unknown[]) => net.Server;
const proto = net.Server.prototype as unknown as { listen: Listen };
const listen = proto.listen;
proto.listen = function (this: net.Server, ...args: unknown[]): net.Server {
  const first = args[0];
  const port =
    typeof first === 'number' || typeof first === 'string'
      ? Number(first)
      : typeof first === 'object' && first !== null && 'port' in first
        ? Number(first.port)
        : NaN;
  if (!Number.isInteger(port)) throw new Error('portkey-server: refusing a listen without a port');
  const callback = args.find((a) => typeof a === 'function');
  this.once('listening', () => {
    const address = this.address() as AddressInfo;
    if (address.address !== HOST) {
      process.stderr.write(`portkey-server: bound ${address.address}, not ${HOST}\n`);
      process.exit(1);
    }
    process.stdout.write(`\n${READY_MARKER}${JSON.stringify({ port: address.port })}\n`);
  });
  return callback
    ? listen.call(this, { port, host: HOST }, callback)
    : listen.call(this, { port, host: HOST });
};

// Portkey 1.15.2 with the @hono/node-server its range resolves to here (1.19.x) answers every
// streamed request with 500 "TypeError: immutable" (Portkey issue #1389: hono's Response reuses
// the upstream fetch Response's immutable Headers, then Portkey appends x-portkey-* headers).
// Portkey's own fix (PR #1551) copies the streamed response into a new Response first; this does
// the same at the fetch boundary, for event streams only (non-streaming needs nothing).
const fetchUpstream = globalThis.fetch;
const UndiciResponse = globalThis.Response; // before hono replaces the global
globalThis.fetch = async (...args: Parameters<typeof fetch>): Promise<Response> => {
  const res = await fetchUpstream(...args);
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
  return new UndiciResponse(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: new Headers(res.headers),
  });
};

process.on('SIGTERM', () => process.exit(0));
await import(
  new URL('../node_modules/@portkey-ai/gateway/build/start-server.js', import.meta.url).href
);
