/**
 * Federation of upstream MCP servers: any Streamable HTTP MCP server an org admin configures
 * appears as a connector whose tools are listed as `<connectorId>__<toolName>` and called with
 * a credential Fortress injects. The AI client's own token never travels upstream: nothing of
 * the caller's request reaches this module except the tool arguments.
 *
 * Design choices
 * - Client library: the official v2 client, `@modelcontextprotocol/client`, not the v1
 *   `@modelcontextprotocol/sdk` client and not hand-written fetch. v2 speaks both protocol eras:
 *   with `versionNegotiation: 'auto'` it probes with `server/discover` (2026-07-28: stateless,
 *   per-request `_meta`, `MCP-Protocol-Version`/`Mcp-Method`/`Mcp-Name` headers, `resultType`)
 *   and falls back to the `initialize` handshake (2025-11-25, then 2025-06-18, 2025-03-26 and
 *   older, as the server answers) when the server shows no modern support. It also mirrors
 *   `Mcp-Param-*` headers that 2026 servers may require on tools/call, which a hand-written
 *   client would have to track by itself.
 * - Reuse: connections are cached per (org, connector) in an {@link UpstreamMcpPool}, so a
 *   tools/call does not redo the handshake (one `server/discover`, or `initialize` plus
 *   `notifications/initialized`, per connection). The pool is bounded (LRU, 256 by default).
 * - Credential changes: each cache slot remembers an HMAC (per-process key) of url, settings
 *   and credential, never the secret; a call with a different credential closes the old
 *   connection and opens a new one. The open connection keeps the injected header value (a JS
 *   string, which cannot be zeroed) for as long as it is cached.
 * - Expired sessions (2025 era): an upstream that forgot our `Mcp-Session-Id` answers 404 (the
 *   spec), or 400 (servers built on the v1 SDK's documented wiring); the pool then opens a new
 *   session and retries the request once. That is safe for tools/call too: the transport
 *   refuses such requests before any tool runs. A 400 that is not about the session costs one
 *   extra handshake and ends as `upstream answered http 400`.
 * - Timeouts: the caller's AbortSignal is the deadline for the handshake and the request. On
 *   abort the outcome is `unavailable` and the connection is closed (a 2025-era request keeps
 *   its POST open otherwise). Other transport failures also close it; a JSON-RPC error answer
 *   does not.
 * - Errors: `reason` strings are built from fixed text, HTTP statuses and error codes only,
 *   never from SDK or upstream messages (those quote upstream bodies), and are scrubbed for
 *   the secret as a last guard.
 * - Server-initiated messages are not relayed: the standalone GET stream is not opened, and a
 *   2026 `input_required` result is reported as unavailable.
 */
import type { Tool } from '@modelcontextprotocol/client';
import {
  authHeaderFor,
  connectionFingerprint,
  CredentialInjectionError,
  type CredentialMaterial,
} from './upstream-mcp-credential.js';
import { scrub } from './upstream-mcp-failure.js';
import { federatedNames } from './upstream-mcp-names.js';
import {
  createUpstreamMcpPool,
  type PoolTarget,
  type UpstreamMcpPool,
} from './upstream-mcp-pool.js';

export type { CredentialMaterial } from './upstream-mcp-credential.js';
export { AUTH_HEADER_SETTING, AUTH_SCHEME_SETTING } from './upstream-mcp-credential.js';
export {
  createUpstreamMcpPool,
  type UpstreamMcpPool,
  type UpstreamMcpPoolOptions,
} from './upstream-mcp-pool.js';
export { FEDERATED_NAME } from './upstream-mcp-names.js';

/** A configured upstream MCP server. */
export interface UpstreamMcpConfig {
  /** The connector id, also the tool prefix. */
  id: string;
  /** The Streamable HTTP endpoint (http or https). */
  url: string;
  /** e.g. `authHeader` / `authScheme` (see upstream-mcp-credential.ts). */
  settings: Record<string, string>;
  /** The owning org; keys the connection cache so orgs never share a connection. */
  orgId?: string;
}

/** One upstream tool as Fortress exposes it. */
export interface FederatedTool {
  /** `<connectorId>__<upstreamName>`, sanitised to `^[a-zA-Z0-9_-]{1,64}$` (see upstream-mcp-names.ts). */
  name: string;
  /** The name to call upstream. */
  upstreamName: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: Record<string, unknown>;
}

/** How a federated tool call ended: an upstream result (errors included) or no usable answer. */
export type ToolOutcome =
  | {
      kind: 'result';
      content: unknown[];
      structuredContent?: Record<string, unknown>;
      isError: boolean;
    }
  | { kind: 'unavailable'; reason: string };

/** The upstream could not be used; `reason` is stable, lowercase and secret-free. */
export class UpstreamUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`upstream mcp server unavailable: ${reason}`);
    this.name = 'UpstreamUnavailableError';
  }
}

/** What every operation gets. */
export interface UpstreamRequest {
  config: UpstreamMcpConfig;
  credential: CredentialMaterial;
  signal: AbortSignal;
  /** The connection pool; a module-wide default when absent. */
  pool?: UpstreamMcpPool;
}

let defaultPool: UpstreamMcpPool | undefined;

/** The pool used when a request names none. */
function poolOf(request: UpstreamRequest): UpstreamMcpPool {
  return request.pool ?? (defaultPool ??= createUpstreamMcpPool());
}

/** Secrets a reason must not contain, in the forms they travel in. */
function secretsOf(credential: CredentialMaterial): string[] {
  const secret = Buffer.from(credential.secret).toString('utf8');
  return [secret, Buffer.from(secret, 'utf8').toString('base64')];
}

/** The pool target of a request, or the reason it cannot have one. */
function targetOf(request: UpstreamRequest): PoolTarget | { reason: string } {
  const { config, credential } = request;
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    return { reason: 'connector url is not a url' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return { reason: `connector url scheme "${url.protocol}" is not http or https` };
  }
  if (url.username !== '' || url.password !== '') {
    return { reason: 'connector url must not carry credentials' };
  }
  try {
    return {
      key: `${config.orgId ?? ''}\u0000${config.id}`,
      fingerprint: connectionFingerprint(url.href, config.settings, credential),
      url,
      header: authHeaderFor(credential, config.settings),
    };
  } catch (error) {
    if (error instanceof CredentialInjectionError) return { reason: error.message };
    throw error;
  }
}

function unavailable(
  request: UpstreamRequest,
  reason: string,
): { kind: 'unavailable'; reason: string } {
  return { kind: 'unavailable', reason: scrub(reason, secretsOf(request.credential)) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function federate(connectorId: string, tools: readonly Tool[]): FederatedTool[] {
  const { names } = federatedNames(
    connectorId,
    tools.map((t) => t.name),
  );
  const out: FederatedTool[] = [];
  tools.forEach((tool, i) => {
    const name = names[i];
    if (name === undefined) return;
    out.push({
      name,
      upstreamName: tool.name,
      ...(tool.title === undefined ? {} : { title: tool.title }),
      ...(tool.description === undefined ? {} : { description: tool.description }),
      inputSchema: tool.inputSchema,
      ...(isRecord(tool.outputSchema) ? { outputSchema: tool.outputSchema } : {}),
      ...(isRecord(tool.annotations) ? { annotations: tool.annotations } : {}),
    });
  });
  return out;
}

/**
 * Lists the upstream's tools, following `nextCursor` to the end (the SDK stops a server whose
 * pagination does not end after 64 pages), named for federation. Throws
 * {@link UpstreamUnavailableError} when the upstream cannot be used.
 */
export async function listUpstreamTools(request: UpstreamRequest): Promise<FederatedTool[]> {
  const target = targetOf(request);
  if ('reason' in target)
    throw new UpstreamUnavailableError(unavailable(request, target.reason).reason);
  const pool = poolOf(request);
  const attempt = await pool.run(target, request.signal, (client) =>
    client.listTools(undefined, { signal: request.signal, timeout: pool.maxRequestMs }),
  );
  if (!attempt.ok)
    throw new UpstreamUnavailableError(unavailable(request, attempt.failure.reason).reason);
  return federate(request.config.id, attempt.value.tools);
}

/**
 * Calls one upstream tool by its upstream name. A result with `isError: true` is a result; only
 * an upstream that gives no usable answer (unreachable, timeout, HTTP error such as 401 or 5xx,
 * JSON-RPC error) is `unavailable`.
 */
export async function callUpstreamTool(
  request: UpstreamRequest & { upstreamName: string; args: Record<string, unknown> },
): Promise<ToolOutcome> {
  const target = targetOf(request);
  if ('reason' in target) return unavailable(request, target.reason);
  const pool = poolOf(request);
  const attempt = await pool.run(target, request.signal, (client) =>
    client.callTool(
      { name: request.upstreamName, arguments: request.args },
      { signal: request.signal, timeout: pool.maxRequestMs },
    ),
  );
  if (!attempt.ok) return unavailable(request, attempt.failure.reason);
  const result = attempt.value;
  return {
    kind: 'result',
    content: Array.isArray(result.content) ? result.content : [],
    // 2026-era servers may return non-object structured content; the SDK then appends it as
    // text to `content`, so only objects are carried here.
    ...(isRecord(result.structuredContent) ? { structuredContent: result.structuredContent } : {}),
    isError: result.isError === true,
  };
}

/**
 * Test Connection: a fresh connection (the cache is left alone, so a candidate credential can
 * be tested before it replaces the live one) that lists every tool and closes.
 */
export async function testUpstream(
  request: UpstreamRequest,
): Promise<{ ok: true; toolCount: number } | { ok: false; reason: string }> {
  const target = targetOf(request);
  if ('reason' in target) return { ok: false, reason: unavailable(request, target.reason).reason };
  const pool = poolOf(request);
  const attempt = await pool.once(target, request.signal, (client) =>
    client.listTools(undefined, { signal: request.signal, timeout: pool.maxRequestMs }),
  );
  if (!attempt.ok)
    return { ok: false, reason: unavailable(request, attempt.failure.reason).reason };
  return { ok: true, toolCount: federate(request.config.id, attempt.value.tools).length };
}
