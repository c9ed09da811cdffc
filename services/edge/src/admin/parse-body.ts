import { fromJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { problems, ProblemError } from './problem.js';

/**
 * A request body as a message, refusing unknown fields and wrong types. The error names the
 * field, never echoes a value (the body may carry an Anthropic key).
 */
export function parseBody<S extends DescMessage>(schema: S, body: unknown): MessageShape<S> {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body))
    throw new ProblemError(problems.badRequest('the body must be a JSON object', undefined));
  try {
    return fromJson(schema, body as JsonValue);
  } catch (err) {
    const message = err instanceof Error ? err.message : '';
    const field =
      /field [\w.]*\.(\w+)\b/.exec(message)?.[1] ?? /key "(\w+)"/.exec(message)?.[1] ?? undefined;
    throw new ProblemError(
      problems.badRequest(
        field
          ? `field "${field}" is unknown or has the wrong type`
          : 'the body does not match the schema',
        field,
      ),
    );
  }
}

/** A time from the query string (RFC 3339), undefined when absent; anything else is a 400. */
export function queryTime(query: URLSearchParams, name: string): Timestamp | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime()))
    throw new ProblemError(problems.badRequest(`${name} must be an RFC 3339 time`, name));
  return timestampFromDate(d);
}

/** The page of a list from the query string (`page_size`, `page_token`); 0 lets the server pick. */
export function queryPage(query: URLSearchParams): { pageSize: number; pageToken: string } {
  const size = query.get('page_size') ?? '0';
  if (!/^\d{1,9}$/.test(size))
    throw new ProblemError(problems.badRequest('page_size must be a whole number', 'page_size'));
  return { pageSize: Number(size), pageToken: query.get('page_token') ?? '' };
}

/** The bearer token of an Authorization header ("" when there is none). */
export function bearerToken(authorization: string | null | undefined): string {
  return /^Bearer\s+(\S+)$/i.exec((authorization ?? '').trim())?.[1] ?? '';
}
