import type { DescService } from '@bufbuild/protobuf';
import { createClient, type Client, type Interceptor } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { checkServerIdentity as defaultCheckServerIdentity, type PeerCertificate } from 'node:tls';
import { LATENCY_BUCKETS_MS, type Telemetry } from './telemetry.js';
import { spiffeIdOf } from './spiffe-id.js';
import { spiffeId, type TlsMaterial } from './tls.js';
import { headersSetter } from './trace-headers.js';

/** Options for a client of another Fortress service. */
export interface ServiceClientOptions {
  /** https://host:port of the service. */
  baseUrl: string;
  /** Our own certificate (mTLS client) and the CA we trust. */
  tls: TlsMaterial;
  /** The service we expect to reach; its certificate must carry this SPIFFE id. */
  expectedService: string;
  telemetry: Telemetry;
  /** Deadline for calls that set none. */
  defaultTimeoutMs: number;
}

/**
 * Creates a typed gRPC client of a Fortress service over mutual TLS. The server must prove it
 * is `expectedService`; every call carries the trace context, a client span and a deadline,
 * and its duration is recorded per hop.
 */
export function createServiceClient<S extends DescService>(
  service: S,
  options: ServiceClientOptions,
): Client<S> {
  const expected = spiffeId(options.expectedService);
  const duration = options.telemetry.meter.createHistogram('fortress.rpc.client.duration', {
    unit: 'ms',
    description: 'Time of one outgoing RPC as the caller sees it, by peer service and method',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });
  const observe: Interceptor = (next) => async (req) => {
    const method = `${req.service.typeName}/${req.method.name}`;
    const span = options.telemetry.tracer.startSpan(method, {
      kind: SpanKind.CLIENT,
      attributes: {
        'rpc.system': 'grpc',
        'rpc.method': method,
        'peer.service': options.expectedService,
      },
    });
    propagation.inject(trace.setSpan(context.active(), span), req.header, headersSetter);
    const started = performance.now();
    try {
      return await next(req);
    } catch (err) {
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
      duration.record(performance.now() - started, { peer: options.expectedService, method });
    }
  };
  const transport = createGrpcTransport({
    baseUrl: options.baseUrl,
    defaultTimeoutMs: options.defaultTimeoutMs,
    interceptors: [observe],
    nodeOptions: {
      ...options.tls,
      minVersion: 'TLSv1.2',
      checkServerIdentity: (host: string, cert: PeerCertificate) => {
        const hostError = defaultCheckServerIdentity(host, cert);
        if (hostError) return hostError;
        const actual = spiffeIdOf(cert);
        if (actual !== expected) {
          return new Error(`peer identity is "${actual ?? 'none'}", expected "${expected}"`);
        }
        return undefined;
      },
    },
  });
  return createClient(service, transport);
}
