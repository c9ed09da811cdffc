import type { ErrorType } from '@anthropic-ai/sdk/resources/shared';

/**
 * Error types the fake can answer with: the SDK's `ErrorType` plus `request_too_large`, which
 * the real API documents for 413 (it comes from the edge, so the SDK's union omits it).
 */
export type ApiErrorType = ErrorType | 'request_too_large';

/** A failed API call as a value: HTTP status, error type, message and extra response headers. */
export interface ApiFailure {
  readonly status: number;
  readonly type: ApiErrorType;
  readonly message: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** The JSON error envelope of the real API (`request_id` repeats the `request-id` header). */
export interface ErrorEnvelope {
  type: 'error';
  error: { type: ApiErrorType; message: string };
  request_id: string;
}

/** Builds a failure value; `headers` are added to the response (e.g. `retry-after`). */
export function failure(
  status: number,
  type: ApiErrorType,
  message: string,
  headers?: Readonly<Record<string, string>>,
): ApiFailure {
  return headers === undefined ? { status, type, message } : { status, type, message, headers };
}

/** A 400 `invalid_request_error` with the given message. */
export function invalidRequest(message: string): ApiFailure {
  return failure(400, 'invalid_request_error', message);
}

/** A 404 `not_found_error` with the given message. */
export function notFound(message: string): ApiFailure {
  return failure(404, 'not_found_error', message);
}

/** The real API's 401 for a missing or unknown key. */
export const AUTHENTICATION_FAILURE: ApiFailure = failure(
  401,
  'authentication_error',
  'invalid x-api-key',
);

/** The real API's 413 body, sent by its edge before the request reaches the API servers. */
export const REQUEST_TOO_LARGE: ApiFailure = failure(
  413,
  'request_too_large',
  'Request exceeds the maximum allowed number of bytes.',
);

/** Wraps a failure in the wire envelope. */
export function errorEnvelope(f: ApiFailure, requestId: string): ErrorEnvelope {
  return { type: 'error', error: { type: f.type, message: f.message }, request_id: requestId };
}

/** The outcome of a validation or lookup: a value, or the failure to answer with. */
export type Result<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: ApiFailure };

/** Wraps a value as a successful result. */
export function ok<T>(value: T): Result<T> {
  return { ok: true, value };
}

/** Wraps a failure as a failed result. */
export function fail<T>(f: ApiFailure): Result<T> {
  return { ok: false, failure: f };
}

/** A failed result carrying a 400 `invalid_request_error`. */
export function rejectInvalid<T>(message: string): Result<T> {
  return fail(invalidRequest(message));
}
