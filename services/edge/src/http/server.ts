import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Tracer,
} from '@opentelemetry/api';
import type { Product } from '@fortress/proto/common/v1/common_pb';
import { newId } from '@fortress/kit/ids';
import type { Logger } from '@fortress/kit/log';
import type { RequestFacts } from '../chain/decision-chain.js';
import { errors, sendAnthropicError } from './anthropic-error.js';

/** A route handler of the public HTTP server. */
export type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  facts: RequestFacts,
  pathWithQuery: string,
) => Promise<void>;

/** Options of the public server. */
export interface EdgeServerOptions {
  host: string;
  port: number;
  logger: Logger;
  tracer: Tracer;
  /** Routes by "METHOD /path"; "METHOD /prefix/*" matches one more path segment. */
  routes: Record<string, { product: Product; handle: Route }>;
  /** Handlers of whole subtrees by path prefix (e.g. "/api/v1/"), which route on their own. */
  prefixes?: Record<string, { product: Product; handle: Route }>;
}

const nodeHeaders = {
  get: (carrier: IncomingMessage['headers'], key: string) => {
    const v = carrier[key];
    return Array.isArray(v) ? v[0] : v;
  },
  keys: (carrier: IncomingMessage['headers']) => Object.keys(carrier),
};

/**
 * The edge's public HTTP server: one span per request (joined to the caller's trace context
 * when given), a Fortress request id on every response, Anthropic-shaped errors for unknown
 * routes, and an Internal error — details logged, never sent — for anything unexpected.
 */
export async function startEdgeServer(options: EdgeServerOptions) {
  const { logger, tracer } = options;
  const server = http.createServer((req, res) => {
    const requestId = newId('req');
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    // A route key ending in "/*" takes any one last path segment (e.g. /v1/models/{id}).
    const wildcard = `${path.slice(0, path.lastIndexOf('/'))}/*`;
    const route =
      options.routes[`${req.method} ${path}`] ??
      (path.endsWith('/') ? undefined : options.routes[`${req.method} ${wildcard}`]) ??
      Object.entries(options.prefixes ?? {}).find(([prefix]) => path.startsWith(prefix))?.[1];
    const parent = propagation.extract(context.active(), req.headers, nodeHeaders);
    const span = tracer.startSpan(
      `${req.method} ${route ? path : 'unknown route'}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method ?? '', 'fortress.request_id': requestId },
      },
      parent,
    );
    res.on('close', () => {
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(trace.setSpan(parent, span), () => {
      if (!route) {
        const known = Object.keys(options.routes).some(
          (k) => k.endsWith(` ${path}`) || (!path.endsWith('/') && k.endsWith(` ${wildcard}`)),
        );
        req.resume();
        sendAnthropicError(
          res,
          requestId,
          known ? errors.methodNotAllowed(req.method ?? '') : errors.notFound(path),
        );
        return;
      }
      const facts: RequestFacts = {
        requestId,
        product: route.product,
        clientIp: req.socket.remoteAddress ?? '',
        userAgent: String(req.headers['user-agent'] ?? '').slice(0, 256),
      };
      route.handle(req, res, facts, url).catch((err: unknown) => {
        logger.error({ err, requestId }, 'unhandled error in route');
        sendAnthropicError(res, requestId, {
          status: 500,
          type: 'api_error',
          message: 'internal error',
        });
      });
    });
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
