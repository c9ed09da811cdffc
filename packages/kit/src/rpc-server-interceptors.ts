import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { toConnectError } from './errors.js';
import type { Logger } from './log.js';
import { peerIdKey } from './rpc-context.js';
import { LATENCY_BUCKETS_MS, type Telemetry } from './telemetry.js';
import { headersGetter } from './trace-headers.js';

/** Dependencies of the server interceptor chain. */
export interface ServerInterceptorOptions {
  logger: Logger;
  telemetry: Telemetry;
  allowedPeers: readonly string[];
}

/**
 * The interceptors every Fortress gRPC server runs, outermost first: a server span joined to
 * the caller's trace, a duration histogram per method and outcome, the one boundary where
 * thrown errors become safe gRPC statuses, and the caller check against `allowedPeers`.
 */
export function createServerInterceptors(options: ServerInterceptorOptions): Interceptor[] {
  const { logger, telemetry } = options;
  const duration = telemetry.meter.createHistogram('fortress.rpc.server.duration', {
    unit: 'ms',
    description: 'Time to handle one RPC, by method and status code',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });
  const allowed = new Set(options.allowedPeers);

  const observe: Interceptor = (next) => async (req) => {
    const parent = propagation.extract(context.active(), req.header, headersGetter);
    const method = `${req.service.typeName}/${req.method.name}`;
    const span = telemetry.tracer.startSpan(
      method,
      { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.method': method } },
      parent,
    );
    const started = performance.now();
    let code = 'OK';
    try {
      return await context.with(trace.setSpan(parent, span), () => next(req));
    } catch (err) {
      const safe = toConnectError(err);
      code = Code[safe.code];
      span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      if (safe.code === Code.Internal && !(err instanceof ConnectError)) {
        logger.error({ err, method }, 'unhandled error in rpc handler');
      }
      throw safe;
    } finally {
      span.setAttribute('rpc.grpc.status_code', code);
      span.end();
      duration.record(performance.now() - started, { method, code });
    }
  };

  const callerCheck: Interceptor = (next) => (req) => {
    const peer = req.contextValues.get(peerIdKey);
    if (!allowed.has(peer)) {
      logger.warn({ peer, method: req.method.name }, 'refused rpc from a peer not allowed here');
      throw new ConnectError('caller is not allowed to use this service', Code.PermissionDenied);
    }
    return next(req);
  };

  return [observe, callerCheck];
}
