import type { ServerResponse } from 'node:http';

/** A JSON-RPC request id. */
export type RpcId = string | number;

/** JSON-RPC 2.0 and MCP error codes. */
export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  /** Implementation-defined server error (transport-level refusals, e.g. a bad session). */
  SERVER_ERROR: -32000,
  /** Not authenticated (implementation-defined range). */
  UNAUTHENTICATED: -32001,
  /** 2026-07-28: the routing headers disagree with the body or are missing. */
  HEADER_MISMATCH: -32020,
  /** 2026-07-28: the protocol version named is not one this server speaks. */
  UNSUPPORTED_PROTOCOL_VERSION: -32022,
} as const;

/** A JSON-RPC error object. */
export interface RpcError {
  code: number;
  message: string;
  data?: unknown;
}

/** A JSON-RPC request or notification as received (shape checked by the transport). */
export interface RpcMessage {
  jsonrpc: '2.0';
  id?: RpcId;
  method: string;
  params?: Record<string, unknown>;
}

/** An error raised by a method handler: answered in-band as a JSON-RPC error. */
export class RpcFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
  }
}

/** A success response. */
export const resultOf = (id: RpcId, result: unknown) => ({ jsonrpc: '2.0' as const, id, result });

/** An error response (id null when the request's id could not be read). */
export const errorOf = (id: RpcId | null, error: RpcError) => ({
  jsonrpc: '2.0' as const,
  id,
  error,
});

/** The id of a body, if it is a usable JSON-RPC id. */
export function idOf(body: unknown): RpcId | null {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null;
  const id = (body as { id?: unknown }).id;
  return typeof id === 'string' || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

/** Writes one JSON body with the Fortress request id. */
export function sendJson(
  res: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'x-fortress-request-id': requestId,
    ...headers,
  });
  res.end(text);
}

/** Writes a JSON-RPC error with an HTTP status (transport-level refusals). */
export function sendRpcError(
  res: ServerResponse,
  status: number,
  requestId: string,
  id: RpcId | null,
  error: RpcError,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, requestId, errorOf(id, error), headers);
}
