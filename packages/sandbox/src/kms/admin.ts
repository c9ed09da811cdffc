import type { IncomingMessage, ServerResponse } from 'node:http';
import { KmsError } from './errors.js';
import type { FaultController } from './faults.js';
import { parseFaultInput } from './faults.js';
import { OPERATION_NAMES } from './operations.js';
import { parseJsonObject, readBody, sendError, sendJson } from './wire.js';

/** Path prefix of the test-control routes; KMS itself only uses `POST /`. */
export const ADMIN_PREFIX = '/__';

/** What the control routes act on. */
export interface AdminDeps {
  readonly faults: FaultController;
  readonly calls: Map<string, number>;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * Serves the out-of-process control API (no auth: bind to loopback):
 *   GET /__fault → current fault; POST /__fault {mode, latencyMs, operations, remaining} → set;
 *   DELETE /__fault → clear; GET /__calls → {Operation: count}; DELETE /__calls → zero counts.
 */
export async function handleAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  requestId: string,
  { faults, calls }: AdminDeps,
): Promise<void> {
  const route = `${req.method ?? ''} ${new URL(req.url ?? '/', 'http://x').pathname}`;
  try {
    const body = await readBody(req);
    switch (route) {
      case 'GET /__fault':
        return sendJson(res, 200, requestId, faults.current(), JSON_HEADERS);
      case 'POST /__fault':
        return sendJson(
          res,
          200,
          requestId,
          faults.set(parseFaultInput(parseJsonObject(body), OPERATION_NAMES)),
          JSON_HEADERS,
        );
      case 'DELETE /__fault':
        faults.reset();
        return sendJson(res, 200, requestId, faults.current(), JSON_HEADERS);
      case 'GET /__calls':
        return sendJson(res, 200, requestId, Object.fromEntries(calls), JSON_HEADERS);
      case 'DELETE /__calls':
        calls.clear();
        return sendJson(res, 200, requestId, {}, JSON_HEADERS);
      default:
        throw new KmsError('UnknownOperationException', `no control route "${route}"`);
    }
  } catch (error: unknown) {
    const sent =
      error instanceof KmsError ? error : new KmsError('KMSInternalException', 'internal error');
    sendError(res, requestId, sent);
  }
}
