import {
  create,
  fromBinary,
  toBinary,
  type DescMethod,
  type DescService,
} from '@bufbuild/protobuf';
import { ConnectError, type Client, type Code } from '@connectrpc/connect';
import * as grpc from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';
import type { ServiceClientOptions } from './rpc-client.js';
import { spiffeIdOf } from './spiffe-id.js';
import { LATENCY_BUCKETS_MS } from './telemetry.js';
import { spiffeId } from './tls.js';

/** Call options our clients accept (the subset of Connect's we use). */
interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Gives a grpc-js error the shape Connect callers handle (same status codes). */
function toConnectError(err: grpc.ServiceError): ConnectError {
  const metadata = new Headers();
  for (const [key, value] of Object.entries(err.metadata?.getMap() ?? {})) {
    if (typeof value === 'string') metadata.set(key, value);
  }
  return new ConnectError(err.details || err.message, err.code as unknown as Code, metadata);
}

/**
 * A typed client of a Fortress service on the stock @grpc/grpc-js transport, with protobuf-es
 * messages — the same interface as a Connect client (`Client<S>`, unary methods), so callers
 * do not change. Mutual TLS with the server's SPIFFE id checked in place of its host name;
 * every call carries the trace context, a client span, a deadline and a duration sample.
 */
export function createGrpcServiceClient<S extends DescService>(
  service: S,
  options: ServiceClientOptions,
): Client<S> {
  const url = new URL(options.baseUrl);
  const expected = spiffeId(options.expectedService);
  const credentials = grpc.credentials.createSsl(
    options.tls.ca,
    options.tls.key,
    options.tls.cert,
    {
      // The identity that matters is the SPIFFE id in the certificate, not a DNS name.
      checkServerIdentity: (_host: string, cert: PeerCertificate) => {
        const actual = spiffeIdOf(cert);
        return actual === expected
          ? undefined
          : new Error(`peer identity is "${actual ?? 'none'}", expected "${expected}"`);
      },
    },
  );
  const channelOptions: grpc.ChannelOptions = isIP(url.hostname)
    ? { 'grpc.ssl_target_name_override': 'localhost' }
    : {};
  const client = new grpc.Client(`${url.hostname}:${url.port}`, credentials, channelOptions);
  const duration = options.telemetry.meter.createHistogram('fortress.rpc.client.duration', {
    unit: 'ms',
    description: 'Time of one outgoing RPC as the caller sees it, by peer service and method',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });

  const unary = (method: DescMethod) => {
    const path = `/${service.typeName}/${method.name}`;
    const name = `${service.typeName}/${method.name}`;
    return (input: unknown, call: CallOptions = {}) =>
      new Promise((resolve, reject) => {
        const span = options.telemetry.tracer.startSpan(name, {
          kind: SpanKind.CLIENT,
          attributes: {
            'rpc.system': 'grpc',
            'rpc.method': name,
            'peer.service': options.expectedService,
          },
        });
        const metadata = new grpc.Metadata();
        propagation.inject(trace.setSpan(context.active(), span), metadata, {
          set: (m, k, v) => m.set(k, v),
        });
        const started = performance.now();
        const deadline = Date.now() + (call.timeoutMs ?? options.defaultTimeoutMs);
        const pending = client.makeUnaryRequest(
          path,
          (msg: unknown) => Buffer.from(toBinary(method.input, create(method.input, msg as never))),
          (buf: Buffer) => fromBinary(method.output, buf),
          input,
          metadata,
          { deadline },
          (err, value) => {
            span.end();
            duration.record(performance.now() - started, {
              peer: options.expectedService,
              method: name,
            });
            if (err) {
              span.setStatus({ code: SpanStatusCode.ERROR });
              reject(toConnectError(err));
            } else {
              resolve(value);
            }
          },
        );
        call.signal?.addEventListener('abort', () => pending.cancel(), { once: true });
      });
  };

  const methods: Record<string, unknown> = {};
  for (const method of service.methods) {
    if (method.methodKind === 'unary') methods[method.localName] = unary(method);
  }
  return methods as Client<S>;
}
