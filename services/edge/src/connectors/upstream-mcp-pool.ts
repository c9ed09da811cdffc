import {
  Client,
  StreamableHTTPClientTransport,
  type FetchLike,
} from '@modelcontextprotocol/client';
import type { AuthHeader } from './upstream-mcp-credential.js';
import { classifyFailure, type Failure } from './upstream-mcp-failure.js';

/** One open connection to an upstream MCP server: an SDK client that has done its handshake. */
interface Connection {
  readonly client: Client;
  readonly transport: StreamableHTTPClientTransport;
}

interface Entry {
  readonly fingerprint: string;
  readonly ready: Promise<Connection>;
}

/** Where to connect and as whom; built by upstream-mcp.ts from a connector's config. */
export interface PoolTarget {
  /** The cache slot: one per (org, connector). */
  readonly key: string;
  /** HMAC of url, settings and credential; a different one replaces the cached connection. */
  readonly fingerprint: string;
  readonly url: URL;
  readonly header: AuthHeader;
}

/** A result, or the failure it ended in. */
export type Attempt<T> = { ok: true; value: T } | { ok: false; failure: Failure };

/** Options of {@link createUpstreamMcpPool}. */
export interface UpstreamMcpPoolOptions {
  /** Connections kept open at most; the least recently used is closed first. Default 256. */
  readonly maxConnections?: number;
  /** The fetch the transport uses; global fetch by default. */
  readonly fetch?: FetchLike;
  /** Ceiling on one request when the caller's signal allows longer. Default 5 minutes. */
  readonly maxRequestMs?: number;
  /** How Fortress introduces itself to upstream servers. */
  readonly clientInfo?: { name: string; version: string };
}

/** Open connections to upstream MCP servers, reused across calls. */
export interface UpstreamMcpPool {
  /**
   * Runs `use` on the cached connection for `target`, opening it (or replacing one opened with
   * another url, settings or credential) first. When the upstream may have forgotten the
   * session (HTTP 404, or 400 from servers built on the v1 SDK's documented wiring) the
   * connection is replaced and `use` runs once more: both are refusals before dispatch, so a
   * retry cannot run a tool twice.
   */
  run<T>(
    target: PoolTarget,
    signal: AbortSignal,
    use: (client: Client) => Promise<T>,
  ): Promise<Attempt<T>>;
  /** Runs `use` on a connection of its own, closed afterwards; the cache is not touched. */
  once<T>(
    target: PoolTarget,
    signal: AbortSignal,
    use: (client: Client) => Promise<T>,
  ): Promise<Attempt<T>>;
  /** The request timeout to give the SDK: the caller's signal is the real deadline. */
  readonly maxRequestMs: number;
  /** Connections currently cached. */
  size(): number;
  /** Closes and forgets the connection of one cache slot (a connector killed or deleted). */
  forget(key: string): Promise<void>;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Settles with `promise`, or rejects with the signal's reason once it aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/**
 * The transport's fetch: adds the credential header to every request and answers the optional
 * standalone GET stream itself with 405, which the spec lets servers answer and the SDK treats
 * as "no stream". Fortress relays no server-initiated messages, so holding one long-lived
 * stream per connector would only cost sockets.
 */
function credentialFetch(base: FetchLike, header: AuthHeader): FetchLike {
  return async (url, init) => {
    if ((init?.method ?? 'GET').toUpperCase() === 'GET') {
      return new Response(null, { status: 405, statusText: 'Method Not Allowed' });
    }
    const headers = new Headers(init?.headers);
    headers.set(header.name, header.value);
    return base(url, { ...init, headers });
  };
}

async function closeQuietly(connection: Promise<Connection>): Promise<void> {
  try {
    await (await connection).client.close();
  } catch {
    // Closing a connection that failed or already closed has nothing left to do.
  }
}

/** Creates a pool; main.ts owns one and closes it on shutdown. */
export function createUpstreamMcpPool(options: UpstreamMcpPoolOptions = {}): UpstreamMcpPool {
  const max = Math.max(1, options.maxConnections ?? 256);
  const maxRequestMs = options.maxRequestMs ?? 5 * 60_000;
  const baseFetch: FetchLike = options.fetch ?? ((url, init) => fetch(url, init));
  const clientInfo = options.clientInfo ?? { name: 'fortress-gateway', version: '0.1.0' };
  const entries = new Map<string, Entry>();

  async function open(target: PoolTarget, signal: AbortSignal): Promise<Connection> {
    const transport = new StreamableHTTPClientTransport(target.url, {
      fetch: credentialFetch(baseFetch, target.header),
    });
    // 'auto' probes with server/discover (2026-07-28) and falls back to the initialize
    // handshake (2025-11-25, 2025-06-18, 2025-03-26, …) when the server shows no modern support.
    const client = new Client(clientInfo, { versionNegotiation: { mode: 'auto' } });
    try {
      // The SDK's probe does not watch a signal; closing the transport aborts its fetch.
      const onAbort = () => void transport.close().catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await untilAborted(client.connect(transport, { signal, timeout: maxRequestMs }), signal);
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    } catch (error) {
      await client.close().catch(() => undefined);
      throw error;
    }
    return { client, transport };
  }

  function drop(key: string, entry: Entry): void {
    if (entries.get(key) === entry) entries.delete(key);
    void closeQuietly(entry.ready);
  }

  function entryFor(target: PoolTarget, signal: AbortSignal): Entry {
    const cached = entries.get(target.key);
    if (cached !== undefined) {
      entries.delete(target.key);
      if (cached.fingerprint === target.fingerprint) {
        entries.set(target.key, cached);
        return cached;
      }
      // The credential, url or settings changed: the old session must not serve another call.
      void closeQuietly(cached.ready);
    }
    // The first caller's signal bounds the handshake; concurrent callers wait on it.
    const entry: Entry = { fingerprint: target.fingerprint, ready: open(target, signal) };
    entry.ready.catch(() => {
      if (entries.get(target.key) === entry) entries.delete(target.key);
    });
    entries.set(target.key, entry);
    for (const [key, oldest] of entries) {
      if (entries.size <= max) break;
      drop(key, oldest);
    }
    return entry;
  }

  async function attempt<T>(
    connection: Connection,
    signal: AbortSignal,
    use: (client: Client) => Promise<T>,
  ): Promise<Attempt<T> & { hadSession: boolean }> {
    const hadSession = connection.transport.sessionId !== undefined;
    try {
      return { ok: true, value: await untilAborted(use(connection.client), signal), hadSession };
    } catch (error) {
      return { ok: false, failure: classifyFailure(error, signal, hadSession), hadSession };
    }
  }

  return {
    maxRequestMs,

    async run(target, signal, use) {
      for (let retried = false; ; retried = true) {
        const entry = entryFor(target, signal);
        let connection: Connection;
        try {
          connection = await untilAborted(entry.ready, signal);
        } catch (error) {
          return { ok: false, failure: classifyFailure(error, signal, false) };
        }
        const result = await attempt(connection, signal, use);
        if (result.ok) return { ok: true, value: result.value };
        // A timed-out legacy request keeps its POST open until the upstream answers; closing
        // the connection frees it (and a fresh handshake is cheap next time).
        if (!result.failure.connectionUsable) drop(target.key, entry);
        if (!result.failure.sessionLost || retried || signal.aborted) {
          return { ok: false, failure: result.failure };
        }
      }
    },

    async once(target, signal, use) {
      const ready = open(target, signal);
      try {
        const connection = await ready;
        const result = await attempt(connection, signal, use);
        return result.ok
          ? { ok: true, value: result.value }
          : { ok: false, failure: result.failure };
      } catch (error) {
        return { ok: false, failure: classifyFailure(error, signal, false) };
      } finally {
        await closeQuietly(ready);
      }
    },

    size: () => entries.size,

    async forget(key) {
      const entry = entries.get(key);
      if (entry === undefined) return;
      entries.delete(key);
      await closeQuietly(entry.ready);
    },

    async close() {
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map((entry) => closeQuietly(entry.ready)));
    },
  };
}
