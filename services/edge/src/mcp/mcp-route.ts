import type { IncomingMessage, ServerResponse } from 'node:http';
import { create } from '@bufbuild/protobuf';
import { classifyInboundRequest } from '@modelcontextprotocol/server';
import { ReasonSchema } from '@fortress/proto/common/v1/common_pb';
import type { Principal } from '@fortress/proto/common/v1/common_pb';
import { newId } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import type { DecisionChain, Denial, RequestFacts } from '../chain/decision-chain.js';
import { presentedCredentials } from '../http/credentials.js';
import { BodyTooLargeError, readBody } from '../http/read-body.js';
import {
  RpcCode,
  RpcFailure,
  errorOf,
  idOf,
  resultOf,
  sendJson,
  sendRpcError,
  type RpcId,
  type RpcMessage,
} from './jsonrpc.js';
import type { ListChangedHub } from './list-changed.js';
import {
  BATCH_VERSION,
  CAPABILITIES,
  DEFAULT_LEGACY_VERSION,
  INSTRUCTIONS,
  LEGACY_VERSIONS,
  META,
  MODERN_VERSIONS,
  SERVER_INFO,
  isLegacyVersion,
  isModernVersion,
} from './protocol.js';
import type { SessionStore } from './sessions.js';
import type { ToolCall } from './tool-call.js';
import type { ToolListing } from './tool-listing.js';

/** What the MCP endpoint needs. */
export interface McpRouteDeps {
  chain: DecisionChain;
  sessions: SessionStore;
  listing: ToolListing;
  calls: ToolCall;
  streams: ListChangedHub;
  logger: Logger;
  maxBodyBytes: number;
  /** Browser origins allowed to call (DNS-rebinding defence); requests without Origin pass. */
  allowedOrigins: readonly string[];
  /** How long a client may cache a tools/list (2026-07-28 `ttlMs`). */
  listTtlMs: number;
}

/** Which protocol era a request speaks, and in which revision. */
type Era = { kind: 'modern'; version: string } | { kind: 'legacy'; version: string };

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return (Array.isArray(v) ? v[0] : v)?.trim();
};

/** Whether an Accept header lets us answer with JSON (absent: yes). */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true;
  return accept
    .split(',')
    .map((p) => (p.split(';')[0] ?? '').trim().toLowerCase())
    .some((t) => t === 'application/json' || t === 'application/*' || t === '*/*');
}

/** Decodes an `Mcp-Name` value: plain, or the `=?base64?…?=` sentinel for non-ASCII names. */
function decodeMcpName(value: string): string | undefined {
  const m = /^=\?base64\?([A-Za-z0-9+/=]*)\?=$/.exec(value);
  if (!m) return value;
  try {
    return Buffer.from(m[1] ?? '', 'base64').toString('utf8');
  } catch {
    return undefined;
  }
}

/** The audited action of an MCP method (`tools/call` → `mcp:tools.call`). */
const actionOf = (method: string) => `mcp:${method.replaceAll('/', '.')}`;

/** The status a transport refusal of the authentication step answers with. */
function authRefusal(d: Denial): { status: number; code: number; message: string } {
  if (d.kind === 'unavailable')
    return {
      status: 503,
      code: RpcCode.INTERNAL_ERROR,
      message: 'Fortress could not authenticate the request (a dependency is unavailable)',
    };
  return { status: 401, code: RpcCode.UNAUTHENTICATED, message: `Unauthorized: ${d.message}` };
}

/**
 * `POST|GET|DELETE /v1/mcp`: MCP over Streamable HTTP, JSON-RPC 2.0, in both protocol eras.
 *
 * - 2026-07-28 (stateless): every request carries its protocol version and capabilities in
 *   `_meta` and mirrors method and tool name in the `MCP-Protocol-Version`, `Mcp-Method` and
 *   `Mcp-Name` headers (a mismatch or a missing header is -32020 on HTTP 400); results carry
 *   `resultType`, and lists `ttlMs` and `cacheScope: "private"` (a list is the caller's own).
 * - 2025-03-26 … 2025-11-25: `initialize` opens a session (`Mcp-Session-Id`, random, bound to
 *   the subject that opened it, shared by every replica); later requests need it (missing →
 *   400, unknown or someone else's → 404); GET opens the notification stream, DELETE ends it.
 *
 * Era classification is the official SDK's (body first, headers cross-checked). Every request
 * is authenticated on its own — a session id is never a credential — and every tool decision
 * goes through the chain. Origin is checked first (403) against DNS rebinding.
 */
export function createMcpRoute(deps: McpRouteDeps) {
  const { logger } = deps;
  const allowedOrigins = new Set(deps.allowedOrigins);

  /** Origin check; true when the client was answered (refused). */
  const refusedOrigin = (req: IncomingMessage, res: ServerResponse, facts: RequestFacts) => {
    const origin = header(req, 'origin');
    if (origin === undefined || allowedOrigins.has(origin)) return false;
    req.resume();
    sendRpcError(res, 403, facts.requestId, null, {
      code: RpcCode.SERVER_ERROR,
      message: 'Forbidden: origin not allowed',
    });
    return true;
  };

  /** Authenticates the request (org key, plus IdP token where the org needs one). */
  const authenticate = async (
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    id: RpcId | null,
    action: string,
  ): Promise<{ principal: Principal; us: number } | undefined> => {
    const presented = presentedCredentials(req.headers);
    if (!presented.apiKey) {
      sendRpcError(res, 401, facts.requestId, id, {
        code: RpcCode.UNAUTHENTICATED,
        message: 'Unauthorized: an org API key is required (x-api-key or Authorization: Bearer)',
      });
      return undefined;
    }
    const auth = await deps.chain.authenticate(presented, facts, action);
    if (auth.ok) return { principal: auth.principal, us: auth.us };
    const r = authRefusal(auth.denial);
    sendRpcError(res, r.status, facts.requestId, id, { code: r.code, message: r.message });
    return undefined;
  };

  /**
   * Refuses a malformed request: audited first when its caller can be authenticated (a bad
   * request is a decision too), then answered with its JSON-RPC error.
   */
  const refuseMalformed = async (
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    status: number,
    id: RpcId | null,
    error: { code: number; message: string; data?: unknown },
  ) => {
    const presented = presentedCredentials(req.headers);
    if (presented.apiKey) {
      const auth = await deps.chain.authenticate(presented, facts, 'mcp:request');
      if (auth.ok) {
        const stored = await deps.chain.refuse(
          auth.principal,
          auth.us,
          facts,
          'mcp:request',
          create(ReasonSchema, {
            code: 'bad_request',
            message: error.message.slice(0, 200),
            ruleId: 'protocol',
          }),
        );
        if (!stored) {
          return sendRpcError(res, 503, facts.requestId, id, {
            code: RpcCode.INTERNAL_ERROR,
            message: 'Fortress could not record the request; it was refused',
          });
        }
      }
    }
    sendRpcError(res, status, facts.requestId, id, error);
  };

  /** Runs one request's method; the result, or an in-band failure. */
  const dispatch = async (
    era: Era,
    message: RpcMessage,
    who: { principal: Principal; us: number },
    facts: RequestFacts,
  ): Promise<Record<string, unknown>> => {
    switch (message.method) {
      case 'ping':
        return {};
      case 'tools/list': {
        const cursor = message.params?.['cursor'];
        if (cursor !== undefined && typeof cursor !== 'string')
          throw new RpcFailure(RpcCode.INVALID_PARAMS, 'Invalid params: cursor must be a string');
        const page = await deps.listing.list(who.principal, who.us, facts, cursor);
        return {
          tools: page.tools,
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
          ...(era.kind === 'modern' ? { ttlMs: deps.listTtlMs, cacheScope: 'private' } : {}),
        };
      }
      case 'tools/call':
        return { ...(await deps.calls.call(who.principal, who.us, facts, message.params)) };
      case 'server/discover':
        if (era.kind !== 'modern') break;
        return {
          supportedVersions: [...MODERN_VERSIONS, ...LEGACY_VERSIONS],
          capabilities: CAPABILITIES,
          serverInfo: SERVER_INFO,
          instructions: INSTRUCTIONS,
          ttlMs: deps.listTtlMs,
          cacheScope: 'private',
        };
    }
    throw new RpcFailure(RpcCode.METHOD_NOT_FOUND, `Method not found: ${message.method}`);
  };

  /** One request's response: its result or its JSON-RPC error (in-band). */
  const respond = async (
    era: Era,
    message: RpcMessage & { id: RpcId },
    who: { principal: Principal; us: number },
    facts: RequestFacts,
  ) => {
    let body;
    try {
      const result = await dispatch(era, message, who, facts);
      body = resultOf(
        message.id,
        era.kind === 'modern'
          ? { ...result, resultType: 'complete', _meta: { [META.serverInfo]: SERVER_INFO } }
          : result,
      );
    } catch (err) {
      if (!(err instanceof RpcFailure)) throw err;
      body = errorOf(message.id, {
        code: err.code,
        message: err.message,
        ...(err.data === undefined ? {} : { data: err.data }),
      });
    }
    return body;
  };

  /** Answers one request in-band (HTTP 200). */
  const answer = async (
    res: ServerResponse,
    era: Era,
    message: RpcMessage & { id: RpcId },
    who: { principal: Principal; us: number },
    facts: RequestFacts,
  ) => sendJson(res, 200, facts.requestId, await respond(era, message, who, facts));

  /** The 2026-07-28 routing headers a request must carry, checked against its body. */
  const headerMismatch = (req: IncomingMessage, message: RpcMessage): string | undefined => {
    if (header(req, 'mcp-protocol-version') === undefined)
      return 'the required MCP-Protocol-Version header is absent';
    const method = header(req, 'mcp-method');
    if (method === undefined) return 'the required Mcp-Method header is absent';
    if (method !== message.method)
      return `the body names method ${message.method} but the Mcp-Method header names ${method}`;
    if (message.method === 'tools/call') {
      const name = message.params?.['name'];
      const raw = header(req, 'mcp-name');
      if (typeof name === 'string' && raw === undefined)
        return 'the required Mcp-Name header is absent';
      if (raw !== undefined && decodeMcpName(raw) !== name)
        return `the body names tool ${String(name)} but the Mcp-Name header names ${raw}`;
    }
    return undefined;
  };

  /**
   * A JSON-RPC batch, which only the 2025-03-26 revision allows (2025-06-18 removed batching):
   * each request is answered in one array, notifications and responses need no answer (202
   * when nothing in the batch asks for one). `initialize` may not be batched.
   */
  async function answerBatch(
    req: IncomingMessage,
    res: ServerResponse,
    facts: RequestFacts,
    batch: unknown[],
    version: string,
    who: { principal: Principal; us: number },
  ) {
    if (version !== BATCH_VERSION)
      return refuseMalformed(req, res, facts, 400, null, {
        code: RpcCode.INVALID_REQUEST,
        message: `Invalid Request: JSON-RPC batches are not part of protocol version ${version}`,
      });
    const messages = batch as RpcMessage[];
    if (messages.some((m) => m.method === 'initialize'))
      return refuseMalformed(req, res, facts, 400, null, {
        code: RpcCode.INVALID_REQUEST,
        message: 'Invalid Request: initialize must not be part of a batch',
      });
    const requests = messages.filter(
      (m): m is RpcMessage & { id: RpcId } => typeof m.method === 'string' && idOf(m) !== null,
    );
    if (requests.length === 0) {
      res.writeHead(202, { 'x-fortress-request-id': facts.requestId }).end();
      return;
    }
    const era: Era = { kind: 'legacy', version };
    // One after another: each is its own decision, audited in order under its own request id.
    const answers = [];
    for (const [i, m] of requests.entries())
      answers.push(
        await respond(era, m, who, i === 0 ? facts : { ...facts, requestId: newId('req') }),
      );
    sendJson(res, 200, facts.requestId, answers);
  }

  async function post(req: IncomingMessage, res: ServerResponse, facts: RequestFacts) {
    if (refusedOrigin(req, res, facts)) return;
    const contentType = (header(req, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
    if (contentType !== 'application/json') {
      req.resume();
      return sendRpcError(res, 415, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Unsupported Media Type: Content-Type must be application/json',
      });
    }
    if (!acceptsJson(header(req, 'accept'))) {
      req.resume();
      return sendRpcError(res, 406, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Not Acceptable: the client must accept application/json',
      });
    }
    let body: unknown;
    try {
      const raw = await readBody(req, deps.maxBodyBytes);
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      if (err instanceof BodyTooLargeError) {
        req.resume();
        return sendRpcError(res, 413, facts.requestId, null, {
          code: RpcCode.SERVER_ERROR,
          message: `Payload Too Large: the body exceeds ${deps.maxBodyBytes} bytes`,
        });
      }
      return refuseMalformed(req, res, facts, 400, null, {
        code: RpcCode.PARSE_ERROR,
        message: 'Parse error: the body is not valid JSON',
      });
    }

    const route = classifyInboundRequest({
      httpMethod: 'POST',
      ...(header(req, 'mcp-protocol-version') !== undefined
        ? { protocolVersionHeader: header(req, 'mcp-protocol-version') }
        : {}),
      ...(header(req, 'mcp-method') !== undefined
        ? { mcpMethodHeader: header(req, 'mcp-method') }
        : {}),
      ...(header(req, 'mcp-name') !== undefined ? { mcpNameHeader: header(req, 'mcp-name') } : {}),
      body,
    } as Parameters<typeof classifyInboundRequest>[0]);
    const id = idOf(body);

    if (route.kind === 'reject') {
      return refuseMalformed(req, res, facts, route.httpStatus, id, {
        code: route.code,
        message: route.message,
        ...(route.data === undefined ? {} : { data: route.data }),
      });
    }

    if (route.kind === 'modern') {
      const version = route.classification.revision ?? '';
      const message = route.message as RpcMessage;
      if (!isModernVersion(version)) {
        return refuseMalformed(req, res, facts, 400, id, {
          code: RpcCode.UNSUPPORTED_PROTOCOL_VERSION,
          message: `Unsupported protocol version: ${version || 'none named'}`,
          data: { supported: [...MODERN_VERSIONS, ...LEGACY_VERSIONS], requested: version },
        });
      }
      if (route.messageKind === 'notification') {
        // Nothing to do for a client notification (e.g. cancelled) in a stateless exchange.
        res.writeHead(202, { 'x-fortress-request-id': facts.requestId }).end();
        return;
      }
      const mismatch = headerMismatch(req, message);
      if (mismatch) {
        return refuseMalformed(req, res, facts, 400, id, {
          code: RpcCode.HEADER_MISMATCH,
          message: `Bad Request: the request headers and body disagree: ${mismatch}`,
        });
      }
      const who = await authenticate(req, res, facts, id, actionOf(message.method));
      if (!who) return;
      return answer(
        res,
        { kind: 'modern', version },
        message as RpcMessage & { id: RpcId },
        who,
        facts,
      );
    }

    // 2025-era traffic.
    const headerVersion = header(req, 'mcp-protocol-version');
    const isBatch = route.reason === 'batch';
    const message = (isBatch ? {} : body) as RpcMessage;
    const isInitialize = route.reason === 'initialize';
    if (!isInitialize && headerVersion !== undefined && !isLegacyVersion(headerVersion)) {
      return sendRpcError(res, 400, facts.requestId, id, {
        code: RpcCode.SERVER_ERROR,
        message: `Bad Request: unsupported protocol version ${headerVersion} (supported: ${LEGACY_VERSIONS.join(', ')})`,
      });
    }
    const sessionId = header(req, 'mcp-session-id');
    if (!isInitialize && sessionId === undefined) {
      return sendRpcError(res, 400, facts.requestId, id, {
        code: RpcCode.SERVER_ERROR,
        message: 'Bad Request: Mcp-Session-Id header is required',
      });
    }
    const who = await authenticate(
      req,
      res,
      facts,
      id,
      actionOf(isInitialize ? 'initialize' : isBatch ? 'batch' : (message.method ?? 'response')),
    );
    if (!who) return;

    if (isInitialize) {
      const requested = message.params?.['protocolVersion'];
      const version =
        typeof requested === 'string' && isLegacyVersion(requested)
          ? requested
          : LEGACY_VERSIONS[0];
      const newSession = await deps.sessions.open({
        orgId: who.principal.orgId,
        subjectId: who.principal.subjectId,
        apiKeyId: who.principal.apiKeyId,
        protocolVersion: version,
      });
      return sendJson(
        res,
        200,
        facts.requestId,
        resultOf(id ?? 0, {
          protocolVersion: version,
          capabilities: CAPABILITIES,
          serverInfo: SERVER_INFO,
          instructions: INSTRUCTIONS,
        }),
        { 'mcp-session-id': newSession },
      );
    }

    const session = await deps.sessions.find(sessionId ?? '', {
      orgId: who.principal.orgId,
      subjectId: who.principal.subjectId,
    });
    if (!session) {
      return sendRpcError(res, 404, facts.requestId, id, {
        code: RpcCode.SERVER_ERROR,
        message: 'Not Found: no such session (start a new one with initialize)',
      });
    }
    const version = headerVersion ?? session.protocolVersion ?? DEFAULT_LEGACY_VERSION;
    if (isBatch) return answerBatch(req, res, facts, body as unknown[], version, who);
    if (route.reason !== 'no-claim' || id === null) {
      // A notification or a posted response: accepted, nothing to answer.
      res.writeHead(202, { 'x-fortress-request-id': facts.requestId }).end();
      return;
    }
    return answer(
      res,
      { kind: 'legacy', version },
      message as RpcMessage & { id: RpcId },
      who,
      facts,
    );
  }

  /** GET: the 2025-era notification stream of a session. */
  async function get(req: IncomingMessage, res: ServerResponse, facts: RequestFacts) {
    req.resume();
    if (refusedOrigin(req, res, facts)) return;
    const accept = header(req, 'accept') ?? '';
    if (!/text\/event-stream/i.test(accept)) {
      return sendRpcError(res, 406, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Not Acceptable: the client must accept text/event-stream',
      });
    }
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) {
      return sendRpcError(res, 400, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Bad Request: Mcp-Session-Id header is required',
      });
    }
    const who = await authenticate(req, res, facts, null, 'mcp:stream');
    if (!who) return;
    const session = await deps.sessions.find(sessionId, {
      orgId: who.principal.orgId,
      subjectId: who.principal.subjectId,
    });
    if (!session) {
      return sendRpcError(res, 404, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Not Found: no such session',
      });
    }
    deps.streams.open(who.principal.orgId, res, { 'x-fortress-request-id': facts.requestId });
  }

  /** DELETE: ends a 2025-era session. */
  async function del(req: IncomingMessage, res: ServerResponse, facts: RequestFacts) {
    req.resume();
    if (refusedOrigin(req, res, facts)) return;
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) {
      return sendRpcError(res, 400, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Bad Request: Mcp-Session-Id header is required',
      });
    }
    const who = await authenticate(req, res, facts, null, 'mcp:session.delete');
    if (!who) return;
    const closed = await deps.sessions.close(sessionId, {
      orgId: who.principal.orgId,
      subjectId: who.principal.subjectId,
    });
    if (!closed) {
      return sendRpcError(res, 404, facts.requestId, null, {
        code: RpcCode.SERVER_ERROR,
        message: 'Not Found: no such session',
      });
    }
    res.writeHead(200, { 'x-fortress-request-id': facts.requestId }).end();
    logger.debug({ requestId: facts.requestId }, 'mcp session ended');
  }

  return { post, get, delete: del };
}
