import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsError } from './errors.js';

/** Content type of AWS JSON 1.1 requests and responses. */
export const AMZ_JSON_1_1 = 'application/x-amz-json-1.1';

/** Prefix of the `x-amz-target` header for KMS (its internal service name). */
const TARGET_PREFIX = 'TrentService.';

/** Largest request body accepted; KMS plaintexts are at most 4 KiB, so this is generous. */
const MAX_BODY_BYTES = 1024 * 1024;

/** A parsed JSON object from a request body. */
export type JsonObject = Record<string, unknown>;

/** The operation named by `x-amz-target: TrentService.<Operation>`, or undefined. */
export function targetOperation(req: IncomingMessage): string | undefined {
  const target = req.headers['x-amz-target'];
  if (typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) return undefined;
  const operation = target.slice(TARGET_PREFIX.length);
  return operation === '' ? undefined : operation;
}

/** Reads the whole request body, refusing bodies larger than the limit. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) {
      throw new KmsError('SerializationException', `request body exceeds ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a request body as a JSON object; an empty body counts as `{}` like AWS. */
export function parseJsonObject(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new KmsError('SerializationException', 'request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new KmsError('SerializationException', 'request body must be a JSON object');
  }
  return value as JsonObject;
}

/** Sends a JSON body with the AWS JSON 1.1 content type and the request id header. */
export function sendJson(
  res: ServerResponse,
  status: number,
  requestId: string,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': AMZ_JSON_1_1,
    'content-length': Buffer.byteLength(text),
    'x-amzn-RequestId': requestId,
    ...extraHeaders,
  });
  res.end(text);
}

/** Sends an AWS JSON error: `{"__type","message"}` plus the `x-amzn-ErrorType` header. */
export function sendError(res: ServerResponse, requestId: string, error: KmsError): void {
  sendJson(
    res,
    error.status,
    requestId,
    { __type: error.type, message: error.message },
    { 'x-amzn-ErrorType': error.type },
  );
}
