import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { CallerPolicy } from './caller.js';
import { identifyCaller } from './caller.js';
import { KmsError } from './errors.js';
import type { FaultController, FaultSettings } from './faults.js';
import type { KeyStore } from './key-store.js';
import type { KmsLogger } from './logger.js';
import { OPERATIONS } from './operations.js';
import { parseJsonObject, readBody, sendError, sendJson, targetOperation } from './wire.js';

/** What the KMS request path needs from the server that owns it. */
export interface KmsHandlerDeps {
  readonly store: KeyStore;
  readonly callerPolicy: CallerPolicy;
  readonly faults: FaultController;
  /** Requests received per operation, faulted ones included. */
  readonly calls: Map<string, number>;
  /** Persists the store after a change. */
  readonly commit: () => Promise<void>;
  readonly logger: KmsLogger | undefined;
  /** Aborted when the server closes, to end injected delays. */
  readonly shutdown: AbortSignal;
}

/** Outcome of one request, for the log line. */
interface Outcome {
  readonly status: number;
  readonly errorType?: string;
}

async function waitOrAbort(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Creates the handler for `POST /` AWS JSON 1.1 KMS requests. */
export function createKmsHandler(
  deps: KmsHandlerDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { store, callerPolicy, faults, calls, commit, logger, shutdown } = deps;

  async function serve(
    req: IncomingMessage,
    res: ServerResponse,
    operation: string | undefined,
    requestId: string,
  ): Promise<Outcome> {
    const handler = operation === undefined ? undefined : OPERATIONS.get(operation);
    if (req.method !== 'POST' || operation === undefined || handler === undefined) {
      await readBody(req);
      const target = req.headers['x-amz-target'] ?? '';
      const shownTarget = Array.isArray(target) ? target.join(',') : target;
      throw new KmsError(
        'UnknownOperationException',
        `no KMS operation for ${req.method ?? '?'} with x-amz-target "${shownTarget}"`,
      );
    }
    calls.set(operation, (calls.get(operation) ?? 0) + 1);
    const fault: FaultSettings | undefined = faults.take(operation);
    if (fault !== undefined && fault.latencyMs > 0) {
      const gone = new AbortController();
      res.once('close', () => gone.abort());
      if (!(await waitOrAbort(fault.latencyMs, AbortSignal.any([gone.signal, shutdown])))) {
        req.socket.destroy();
        return { status: 0, errorType: 'Aborted' };
      }
    }
    if (fault?.mode === 'down') {
      req.socket.destroy();
      return { status: 0, errorType: 'InjectedDown' };
    }
    const body = await readBody(req);
    if (fault?.mode === 'unavailable') {
      throw new KmsError('ServiceUnavailableException', 'Service Unavailable (injected fault)');
    }
    const caller = identifyCaller(req, callerPolicy);
    if (fault?.mode === 'throttle') {
      throw new KmsError(
        'ThrottlingException',
        'You have exceeded the rate at which you may call KMS. Reduce the frequency of your calls.',
      );
    }
    const input = parseJsonObject(body);
    const output = await handler(input, { store, caller, now: Date.now(), commit });
    sendJson(res, 200, requestId, output);
    return { status: 200 };
  }

  return async function handleKmsRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    const started = performance.now();
    const operation = targetOperation(req);
    let outcome: Outcome;
    try {
      outcome = await serve(req, res, operation, requestId);
    } catch (error: unknown) {
      const known = error instanceof KmsError;
      if (!known) {
        const reason = error instanceof Error ? error.message : String(error);
        logger?.error({ operation, requestId, reason }, 'kms internal error');
      }
      const sent = known ? error : new KmsError('KMSInternalException', 'internal error');
      if (!res.headersSent && !res.destroyed) sendError(res, requestId, sent);
      outcome = { status: sent.status, errorType: sent.type };
    }
    const durationMs = Math.round(performance.now() - started);
    logger?.info({ operation, requestId, ...outcome, durationMs }, 'kms request');
  };
}
