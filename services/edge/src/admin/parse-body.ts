import { fromJson, type DescMessage, type JsonValue, type MessageShape } from '@bufbuild/protobuf';
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
