/**
 * A fake upstream MCP server on loopback, for the federation client's tests and the local stack.
 * It is built with the official server SDKs, so clients see what real servers send:
 *
 * - `kind: 'v2'` (default): `@modelcontextprotocol/server`. 2026-07-28 requests (per-request
 *   `_meta`, `server/discover`) go to its stateless modern handler; 2025-era requests
 *   (initialize, then `Mcp-Session-Id`) to a sessionful transport per session.
 * - `kind: 'v2-2025'`: the same SDK serving the 2025 era only, with sessions.
 * - `kind: 'v1'` / `'v1-stateless'`: `@modelcontextprotocol/sdk` 1.x, which most deployed
 *   servers run, sessionful as in its documentation or in its stateless mode.
 * - Every request needs `Authorization: Bearer <token>`, else 401 with a Bearer challenge.
 * - A request naming a session the fake does not know (expired, or from before a restart) gets
 *   404, as the spec requires (400 from the `v1` kind, as its documented wiring answers), so
 *   clients must start a new session. A request with no session that is not `initialize` (such
 *   as a `server/discover` probe) gets 400, as SDK servers answer.
 * - tools/list is paged (`pageSize`, default 4) so clients must follow `nextCursor`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readText, sendRpcError } from './node-web.js';
import type { ToolState } from './tools.js';
import type { Wiring } from './wiring.js';
import { createV1Wiring } from './wiring-v1.js';
import { createV2Wiring } from './wiring-v2.js';

/** Options of {@link startFakeMcpUpstream}. */
export interface FakeMcpUpstreamOptions {
  /** The bearer token the fake accepts. */
  readonly token: string;
  /** Which SDK serves and how (see above); default 'v2'. */
  readonly kind?: 'v2' | 'v2-2025' | 'v1' | 'v1-stateless';
  /** Tools per tools/list page; default 4. */
  readonly pageSize?: number;
  /** Interface to bind; loopback by default. */
  readonly host?: string;
}

/** One HTTP request as the fake received it. */
export interface RecordedMcpRequest {
  readonly httpMethod: string;
  /** The JSON-RPC method of a POST body, when it had one. */
  readonly rpcMethod?: string;
  /** Header names lowercased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Levers a test pulls on a running fake. */
export interface FakeMcpUpstreamControls {
  /** Takes the fake down: the port refuses connections and every session is forgotten. */
  stop(): Promise<void>;
  /** Brings it back on the same port, with no sessions (like a restarted server). */
  start(): Promise<void>;
  /** Forgets every session while staying up (like sessions expiring). */
  expireSessions(): Promise<void>;
  /** Changes the bearer token the fake accepts. */
  setToken(token: string): void;
  /** tools/call executions that reached a tool, for one tool or all. */
  toolCalls(name?: string): number;
  /** Resolves when the next call to `name` reaches its tool. */
  nextCall(name: string): Promise<void>;
  /** Every HTTP request so far, oldest first (a live view). */
  readonly requests: readonly RecordedMcpRequest[];
  /** Sessions currently open (2025-era only). */
  sessionCount(): number;
}

/** A running fake upstream MCP server. */
export interface FakeMcpUpstream {
  /** The MCP endpoint, e.g. `http://127.0.0.1:40123/mcp`. */
  readonly url: string;
  readonly controls: FakeMcpUpstreamControls;
  /** Stops it for good. */
  close(): Promise<void>;
}

const ENDPOINT = '/mcp';

/** Starts a fake upstream MCP server on a free port. */
export async function startFakeMcpUpstream(
  options: FakeMcpUpstreamOptions,
): Promise<FakeMcpUpstream> {
  const host = options.host ?? '127.0.0.1';
  const pageSize = options.pageSize ?? 4;
  const kind = options.kind ?? 'v2';
  let token = options.token;
  let stopping = new AbortController();
  const requests: RecordedMcpRequest[] = [];
  const calls = new Map<string, number>();
  const waiters: { name: string; resolve: () => void }[] = [];

  const state: ToolState = {
    calls,
    onCall: (name) => {
      const index = waiters.findIndex((w) => w.name === name);
      if (index >= 0) waiters.splice(index, 1)[0]?.resolve();
    },
    stopping: () => stopping.signal,
  };
  const wiring: Wiring =
    kind === 'v1' || kind === 'v1-stateless'
      ? createV1Wiring({ state, pageSize, stateless: kind === 'v1-stateless' })
      : createV2Wiring({ state, pageSize, modern: kind === 'v2' });

  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent)
        sendRpcError(res, { status: 500, code: -32603, message: 'internal error' });
      else res.end();
    });
  });
  let url = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readText(req);
    if (body === undefined) {
      return sendRpcError(res, { status: 413, code: -32600, message: 'request too large' });
    }
    let parsed: unknown;
    try {
      parsed = body === '' ? undefined : JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    const rpcMethod =
      typeof parsed === 'object' && parsed !== null && 'method' in parsed
        ? String(parsed.method)
        : undefined;
    requests.push({
      httpMethod: req.method ?? '',
      ...(rpcMethod === undefined ? {} : { rpcMethod }),
      headers: Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [
          k,
          Array.isArray(v) ? v.join(', ') : (v ?? ''),
        ]),
      ),
      body,
    });

    if ((req.url ?? '').split('?')[0] !== ENDPOINT)
      return sendRpcError(res, { status: 404, code: -32601, message: 'not found' });
    if (req.headers.authorization !== `Bearer ${token}`) {
      res.setHeader('www-authenticate', 'Bearer error="invalid_token"');
      return sendRpcError(res, { status: 401, code: -32001, message: 'unauthorized' });
    }

    if (req.method === 'POST' && parsed === undefined) {
      return sendRpcError(res, { status: 400, code: -32700, message: 'Parse error' });
    }
    return wiring.handle({ req, res, url, body, parsed });
  }

  async function listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(port, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  }

  async function stop(): Promise<void> {
    if (!http.listening) return;
    stopping.abort();
    stopping = new AbortController();
    await wiring.expireSessions();
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeAllConnections();
    await closed;
    // A real restart takes far longer than this, but a client in this same process needs two
    // I/O turns (one to read the FIN of each pooled keep-alive socket, one for the close
    // callbacks that take it out of the pool); without them a request sent right after start()
    // could go out on a socket the fake has already closed.
    for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
  }

  await listen(0);
  const { port } = http.address() as AddressInfo;
  url = `http://${host}:${port}${ENDPOINT}`;

  return {
    url,
    controls: {
      stop,
      start: async () => {
        if (!http.listening) await listen(port);
      },
      expireSessions: () => wiring.expireSessions(),
      setToken: (next) => {
        token = next;
      },
      toolCalls: (name) =>
        name === undefined
          ? [...calls.values()].reduce((a, b) => a + b, 0)
          : (calls.get(name) ?? 0),
      nextCall: (name) => new Promise<void>((resolve) => waiters.push({ name, resolve })),
      requests,
      sessionCount: () => wiring.sessionCount(),
    },
    close: async () => {
      await stop();
      await wiring.close();
    },
  };
}
