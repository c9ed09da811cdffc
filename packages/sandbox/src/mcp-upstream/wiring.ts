import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInitializeRequest } from '@modelcontextprotocol/server';
import { sendRpcError } from './node-web.js';
import type { ToolState } from './tools.js';

/** A request that passed the fake's auth check, with its body read once. */
export interface AuthorisedRequest {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The endpoint's absolute URL, for building a web Request. */
  readonly url: string;
  readonly body: string;
  /** The JSON body, or undefined when there is none or it is not JSON. */
  readonly parsed: unknown;
}

/** How one SDK serves the fake's tools over Streamable HTTP. */
export interface Wiring {
  handle(request: AuthorisedRequest): Promise<void>;
  /** Forgets every session (a no-op for stateless wirings). */
  expireSessions(): Promise<void>;
  sessionCount(): number;
  close(): Promise<void>;
}

/** What a wiring is built from. */
export interface WiringOptions {
  readonly state: ToolState;
  readonly pageSize: number;
}

/** The answer SDK-based servers give a request without a session that is not `initialize`. */
const NO_SESSION = {
  status: 400,
  code: -32000,
  message: 'Bad Request: No valid session ID provided',
};
/** The answer for a session the server does not know; the spec requires 404. */
const UNKNOWN_SESSION = { status: 404, code: -32001, message: 'Session not found' };

/** A session: the transport serving it and a way to close its server. */
export interface Session<T> {
  readonly transport: T;
  readonly close: () => Promise<void>;
}

/** The options a sessionful transport takes; the same in both SDKs. */
export interface SessionHooks {
  sessionIdGenerator: () => string;
  onsessioninitialized: (id: string) => void;
  onsessionclosed: (id: string) => void;
}

/** Open sessions by id. */
export function createSessionTable<T>(
  /**
   * The answer for a session id the server does not know: 404 as the spec requires, or the 400
   * of the v1 SDK's documented wiring, which many deployed servers copied.
   */
  unknownSession: 404 | 400,
) {
  const sessions = new Map<string, Session<T>>();
  return {
    size: () => sessions.size,
    /** Forgets every session and closes its server. */
    async expire(): Promise<void> {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((s) => s.close()));
    },
    /**
     * The 2025-era routing SDK servers document: a known session's transport serves the
     * request, an unknown session gets `unknownSession`, `initialize` opens a new session
     * (`open` builds and connects its server), and anything else gets 400.
     */
    async route(
      { req, res, parsed }: AuthorisedRequest,
      serve: (transport: T) => Promise<void>,
      open: (hooks: SessionHooks) => Promise<Session<T>>,
    ): Promise<void> {
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const session = sessions.get(sessionId);
        return session === undefined
          ? sendRpcError(res, unknownSession === 404 ? UNKNOWN_SESSION : NO_SESSION)
          : serve(session.transport);
      }
      if (req.method !== 'POST' || !isInitializeRequest(parsed)) {
        return sendRpcError(res, NO_SESSION);
      }
      const session: Session<T> = await open({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, session),
        onsessionclosed: (id) => void sessions.delete(id),
      });
      return serve(session.transport);
    },
  };
}
