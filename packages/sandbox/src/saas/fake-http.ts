/**
 * The node:http plumbing shared by the SaaS fakes: a route table with `:param` segments, one
 * parsed request per call, JSON or text replies, a request log, and an outage switch that
 * either drops connections (like a network failure) or answers the vendor's 503.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a fake's handlers see it. */
export interface FakeRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Header names lowercased; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  /** Route parameters (`:name` segments), percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The server's own base URL, for links and `self` fields. */
  readonly baseUrl: string;
}

/** A reply: JSON when `json` is set, else `text` (or no body). */
export interface FakeReply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Readonly<Record<string, string>>;
}

/** A route handler. */
export type Handler = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

/** One entry of a route table. */
export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly keys: readonly string[];
  readonly handler: Handler;
}

/** A route; `pattern` is a path where `:name` matches one segment (up to a `.` suffix). */
export function route(method: string, pattern: string, handler: Handler): Route {
  const keys: string[] = [];
  const source = pattern
    .split(/(:[A-Za-z_]+)/)
    .map((part) => {
      if (part.startsWith(':')) {
        keys.push(part.slice(1));
        return '([^/]+?)';
      }
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return { method, pattern: new RegExp(`^${source}$`), keys, handler };
}

/** Finds the route for a request: the handler and its params, or whether the path exists at all. */
export function match(
  routes: readonly Route[],
  method: string,
  path: string,
):
  | { handler: Handler; params: Record<string, string> }
  | { handler: undefined; pathKnown: boolean } {
  let pathKnown = false;
  for (const r of routes) {
    const found = r.pattern.exec(path);
    if (found === null) continue;
    pathKnown = true;
    if (r.method !== method) continue;
    const params: Record<string, string> = {};
    r.keys.forEach((key, i) => {
      params[key] = safeDecode(found[i + 1] ?? '');
    });
    return { handler: r.handler, params };
  }
  return { handler: undefined, pathKnown };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A JSON value as text for messages and comparisons: scalars as written, others as JSON. */
export function textOf(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** The body as JSON, or `undefined` when it is not JSON. */
export function jsonBody(req: FakeRequest): unknown {
  if (req.body.length === 0) return undefined;
  try {
    return JSON.parse(req.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The body as form fields (`application/x-www-form-urlencoded`). */
export function formBody(req: FakeRequest): URLSearchParams {
  return new URLSearchParams(req.body.toString('utf8'));
}

/** The body's fields whether it came as JSON or as a form. */
export function fieldsOf(req: FakeRequest): Record<string, string> {
  const json = jsonBody(req);
  if (typeof json === 'object' && json !== null && !Array.isArray(json)) {
    return Object.fromEntries(
      Object.entries(json).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
  }
  return Object.fromEntries(formBody(req));
}

/** `Authorization: Basic` user and password, when that is the scheme. */
export function basicAuth(req: FakeRequest): { user: string; password: string } | undefined {
  const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers['authorization'] ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The `Authorization: Bearer` (or GitHub's `token`) credential, when that is the scheme. */
export function bearerToken(req: FakeRequest): string | undefined {
  return /^(?:Bearer|token)\s+(\S+)\s*$/i.exec(req.headers['authorization'] ?? '')?.[1];
}

/** A request as a fake recorded it. */
export interface RecordedSaasRequest {
  readonly method: string;
  readonly path: string;
  /** The raw query string without `?`. */
  readonly query: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** How an outage shows: connections dropped, or the vendor's 503. */
export type OutageMode = 'reset' | '503';

/** The controls every SaaS fake has. */
export interface FakeSaasServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`: the connector instance's `baseUrl`. */
  readonly url: string;
  readonly port: number;
  /** Requests so far, oldest first (a live view; the last 500 are kept). */
  readonly requests: readonly RecordedSaasRequest[];
  clearRequests(): void;
  /** Simulates an outage until called with `false`. */
  setDown(mode: OutageMode | false): void;
  close(): Promise<void>;
}

/** Options of {@link startFakeServer}. */
export interface FakeServerOptions {
  readonly host?: string;
  readonly port?: number;
  readonly routes: readonly Route[];
  /** The vendor's answer to an unknown path or method. */
  readonly notFound: (req: FakeRequest, pathKnown: boolean) => FakeReply;
  /** The vendor's 503 during an outage. */
  readonly unavailable: FakeReply;
  /** Headers on every reply (request ids and the like). */
  readonly headers?: (req: FakeRequest) => Record<string, string>;
}

const RECORD_LIMIT = 500;

function send(res: ServerResponse, reply: FakeReply, extra: Record<string, string>): void {
  const headers: Record<string, string | number> = { ...extra, ...reply.headers };
  let payload: Buffer | undefined;
  if (reply.json !== undefined) {
    payload = Buffer.from(JSON.stringify(reply.json));
    headers['content-type'] ??= 'application/json; charset=utf-8';
  } else if (reply.text !== undefined) {
    payload = Buffer.from(reply.text);
    headers['content-type'] ??= 'text/plain; charset=utf-8';
  }
  headers['content-length'] = payload?.length ?? 0;
  res.writeHead(reply.status, headers);
  res.end(payload);
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

/** Starts a fake vendor API on loopback (port 0 by default). */
export async function startFakeServer(options: FakeServerOptions): Promise<FakeSaasServer> {
  const host = options.host ?? '127.0.0.1';
  const requests: RecordedSaasRequest[] = [];
  const sockets = new Set<Socket>();
  let down: OutageMode | false = false;
  let baseUrl = '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (down === 'reset') {
      req.socket.destroy();
      return;
    }
    const body = await readAll(req);
    const raw = req.url ?? '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const queryText = q < 0 ? '' : raw.slice(q + 1);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    const method = req.method ?? 'GET';
    if (requests.length >= RECORD_LIMIT) requests.shift();
    requests.push({ method, path, query: queryText, headers, body: body.toString('utf8') });
    const found = match(options.routes, method, path);
    const request: FakeRequest = {
      method,
      path,
      query: new URLSearchParams(queryText),
      headers,
      body,
      params: found.handler ? found.params : {},
      baseUrl,
    };
    const extra = options.headers?.(request) ?? {};
    if (down === '503') return send(res, options.unavailable, extra);
    const reply = found.handler
      ? await found.handler(request)
      : options.notFound(request, found.pathKnown);
    send(res, reply, extra);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(
        res,
        { status: 500, text: `fake failed: ${err instanceof Error ? err.message : String(err)}` },
        {},
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  return {
    url: baseUrl,
    port,
    requests,
    clearRequests: () => {
      requests.length = 0;
    },
    setDown: (mode) => {
      down = mode;
      // Kept-alive connections would otherwise still reach the handler first.
      if (mode === 'reset') for (const socket of sockets) socket.destroy();
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
