import type { ServerResponse } from 'node:http';
import { Code, ConnectError } from '@connectrpc/connect';

/** An RFC 9457 problem: what went wrong, in a shape any HTTP client can read. */
export interface Problem {
  status: number;
  /** A stable machine-readable code; also the last segment of `type`. */
  code: string;
  title: string;
  detail: string;
  /** The request field at fault, for validation problems. */
  field?: string;
  headers?: Record<string, string>;
}

/** Where the problem types are documented (the `type` member is this plus the code). */
export const PROBLEM_BASE = 'https://fortress.dev/problems/';

/** The problem+json body of a problem, with the request id as `instance`. */
export function problemBody(requestId: string, p: Problem): string {
  return JSON.stringify({
    type: `${PROBLEM_BASE}${p.code}`,
    title: p.title,
    status: p.status,
    detail: p.detail,
    instance: `urn:fortress:request:${requestId}`,
    code: p.code,
    ...(p.field ? { field: p.field } : {}),
  });
}

/** Writes `application/problem+json`. */
export function sendProblem(res: ServerResponse, requestId: string, p: Problem): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = problemBody(requestId, p);
  res.writeHead(p.status, {
    ...p.headers,
    'content-type': PROBLEM_JSON,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-fortress-request-id': requestId,
  });
  res.end(body);
}

/** The media type of problems. */
export const PROBLEM_JSON = 'application/problem+json';

/** Problems the admin API itself raises. */
export const problems = {
  badRequest: (detail: string, field?: string, code = 'invalid_request'): Problem => ({
    status: 400,
    code,
    title: 'The request is not valid',
    detail,
    ...(field ? { field } : {}),
  }),
  unauthenticated: (detail: string, code = 'unauthenticated'): Problem => ({
    status: 401,
    code,
    title: 'Authentication required',
    detail,
    headers: { 'www-authenticate': 'Bearer realm="fortress-admin"' },
  }),
  forbidden: (detail: string, code = 'forbidden'): Problem => ({
    status: 403,
    code,
    title: 'Not allowed',
    detail,
  }),
  notFound: (detail: string, code = 'not_found'): Problem => ({
    status: 404,
    code,
    title: 'Not found',
    detail,
  }),
  methodNotAllowed: (allowed: string[]): Problem => ({
    status: 405,
    code: 'method_not_allowed',
    title: 'Method not allowed',
    detail: `this resource accepts ${allowed.join(', ')}`,
    headers: { allow: allowed.join(', ') },
  }),
  conflict: (detail: string, code = 'conflict'): Problem => ({
    status: 409,
    code,
    title: 'Conflict',
    detail,
  }),
  tooLarge: (limit: number): Problem => ({
    status: 413,
    code: 'request_too_large',
    title: 'Request body too large',
    detail: `request body exceeds the ${limit}-byte limit`,
  }),
  unsupportedMediaType: (): Problem => ({
    status: 415,
    code: 'unsupported_media_type',
    title: 'Unsupported media type',
    detail: 'send the body as application/json',
  }),
  unprocessable: (detail: string, code: string): Problem => ({
    status: 422,
    code,
    title: 'The request cannot be processed',
    detail,
  }),
  rateLimited: (detail: string, retryAfterSeconds: number): Problem => ({
    status: 429,
    code: 'rate_limited',
    title: 'Too many requests',
    detail,
    headers: { 'retry-after': String(retryAfterSeconds) },
  }),
  unavailable: (): Problem => ({
    status: 503,
    code: 'unavailable',
    title: 'Service unavailable',
    detail: 'a dependency is unavailable; nothing was changed, try again',
    headers: { 'retry-after': '1' },
  }),
  /** Not a failure on REST (a 202 with the approval): how an RPC is told its change waits. */
  approvalPending: (approvalId: string): Problem => ({
    status: 202,
    code: 'approval_pending',
    title: 'Waiting for approval',
    detail: `the change waits for a second admin's approval as "${approvalId}"`,
    headers: { 'fortress-approval-id': approvalId },
  }),
  internal: (): Problem => ({
    status: 500,
    code: 'internal',
    title: 'Internal error',
    detail: 'an unexpected error occurred; nothing is known to have changed',
  }),
};

/** Thrown inside admin handlers to answer with a problem. */
export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail);
  }
}

/**
 * The problem for an error of a backend RPC. Backend statuses carry safe messages (the
 * services never put secrets in them) and, from the kit's typed errors, a stable reason and
 * the offending field in the `fortress-reason` / `fortress-field` trailers.
 */
export function problemOf(err: unknown): Problem {
  if (err instanceof ProblemError) return err.problem;
  const e = ConnectError.from(err);
  const detail = e.rawMessage;
  const reason = e.metadata.get('fortress-reason') ?? undefined;
  switch (e.code) {
    case Code.InvalidArgument:
      return problems.badRequest(detail, e.metadata.get('fortress-field') ?? undefined);
    case Code.NotFound:
      return problems.notFound(detail, reason);
    case Code.AlreadyExists:
      return problems.conflict(detail, reason ?? 'already_exists');
    case Code.FailedPrecondition:
      return problems.conflict(detail, reason ?? 'failed_precondition');
    case Code.PermissionDenied:
      return problems.forbidden(detail, reason);
    case Code.Unauthenticated:
      return problems.unauthenticated(detail, reason);
    case Code.ResourceExhausted:
      return problems.rateLimited(detail, 60);
    case Code.Unavailable:
    case Code.DeadlineExceeded:
      return problems.unavailable();
    default:
      return problems.internal();
  }
}
