import type { ServerResponse } from 'node:http';

/** An error in Anthropic's envelope, so the official SDK raises the matching exception class. */
export interface AnthropicError {
  status: number;
  type: string;
  message: string;
  /** Extra fields inside `error` (the seeds' `code`, `device_id`). */
  extra?: Record<string, string | number>;
  headers?: Record<string, string>;
}

/** Writes `{"type":"error","error":{"type":…,"message":…}}` with the status and headers. */
export function sendAnthropicError(
  res: ServerResponse,
  requestId: string,
  e: AnthropicError,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // Extras come first so they can never override the envelope's own fields.
  const body = JSON.stringify({
    type: 'error',
    error: { ...e.extra, type: e.type, message: e.message },
    request_id: requestId,
  });
  res.writeHead(e.status, {
    ...e.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-fortress-request-id': requestId,
  });
  res.end(body);
}

/** The errors the gateway itself produces. */
export const errors = {
  missingKey: (): AnthropicError => ({
    status: 401,
    type: 'authentication_error',
    message: 'no api key: send your Fortress org key in x-api-key or as Authorization: Bearer',
  }),
  unauthenticated: (message: string): AnthropicError => ({
    status: 401,
    type: 'authentication_error',
    message,
  }),
  invalidRequest: (message: string): AnthropicError => ({
    status: 400,
    type: 'invalid_request_error',
    message,
  }),
  tooLarge: (limit: number): AnthropicError => ({
    status: 413,
    type: 'request_too_large',
    message: `request body exceeds the ${limit}-byte limit`,
  }),
  notFound: (path: string): AnthropicError => ({
    status: 404,
    type: 'not_found_error',
    message: `no route for "${path.slice(0, 100)}"`,
  }),
  /** What the API answers for a model it does not know; also for one the caller may not use. */
  modelNotFound: (model: string): AnthropicError => ({
    status: 404,
    type: 'not_found_error',
    message: `model: ${model.slice(0, 100)}`,
  }),
  methodNotAllowed: (method: string): AnthropicError => ({
    status: 405,
    type: 'invalid_request_error',
    message: `method ${method} is not allowed here`,
  }),
  policyDenied: (message: string, final = false): AnthropicError => ({
    status: 403,
    type: 'policy_denied',
    message,
    extra: { code: 403 },
    // A hard stop (e.g. a spend cap): the SDK must not retry.
    ...(final ? { headers: { 'x-should-retry': 'false' } } : {}),
  }),
  rateLimited: (message: string, retryAfter: Date | undefined): AnthropicError => ({
    status: 429,
    type: 'rate_limit_error',
    message,
    headers: {
      'retry-after': String(
        Math.max(1, Math.ceil(((retryAfter?.getTime() ?? Date.now()) - Date.now()) / 1000)),
      ),
    },
  }),
  deviceNoncompliant: (message: string, deviceId: string): AnthropicError => ({
    status: 403,
    type: 'device_noncompliant',
    message,
    extra: { code: 403, device_id: deviceId },
  }),
  /** A dependency of the decision is down: fail closed, nothing was forwarded. */
  failedClosed: (): AnthropicError => ({
    status: 503,
    type: 'api_error',
    message: 'fortress could not complete the access decision; the request was not forwarded',
  }),
  upstreamUnavailable: (): AnthropicError => ({
    status: 502,
    type: 'api_error',
    message: 'the upstream API could not be reached',
  }),
};
