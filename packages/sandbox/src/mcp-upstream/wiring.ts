import type { IncomingMessage, ServerResponse } from 'node:http';
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
export const NO_SESSION = {
  status: 400,
  code: -32000,
  message: 'Bad Request: No valid session ID provided',
};
/** The answer for a session the server does not know; the spec requires 404. */
export const UNKNOWN_SESSION = { status: 404, code: -32001, message: 'Session not found' };
