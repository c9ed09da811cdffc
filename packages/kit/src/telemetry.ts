import type { IncomingMessage, ServerResponse } from 'node:http';
import { context, metrics, propagation, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, TracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace';

/** Latency buckets in milliseconds, fine enough to see sub-millisecond hops. */
export const LATENCY_BUCKETS_MS = [
  0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 15, 25, 50, 100, 250, 500, 1000, 2500,
];

/** Options for a service's telemetry. */
export interface TelemetryOptions {
  service: string;
  /** OTLP/HTTP traces endpoint (…/v1/traces); no export when unset. */
  otlpTracesUrl?: string | undefined;
  /** How often batched spans are exported. */
  exportDelayMs?: number;
}

/** A service's tracer, meter and the Prometheus scrape handler. */
export interface Telemetry {
  tracer: Tracer;
  meter: Meter;
  /** Serves the Prometheus text format of this service's metrics. */
  metricsHandler: (req: IncomingMessage, res: ServerResponse) => void;
  /** Flushes pending spans and stops exporters. */
  shutdown: () => Promise<void>;
}

/**
 * Starts OpenTelemetry for a service: W3C trace-context propagation, async-local context,
 * traces exported over OTLP/HTTP when configured, metrics served for Prometheus.
 */
export function startTelemetry(options: TelemetryOptions): Telemetry {
  const resource = resourceFromAttributes({ 'service.name': `fortress-${options.service}` });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  const spanProcessors: SpanProcessor[] = [];
  if (options.otlpTracesUrl) {
    spanProcessors.push(
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: options.otlpTracesUrl }),
        scheduledDelayMillis: options.exportDelayMs ?? 1000,
      }),
    );
  }
  const tracerProvider = new TracerProvider({ resource, spanProcessors });
  trace.setGlobalTracerProvider(tracerProvider);

  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const meterProvider = new MeterProvider({ resource, readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);

  return {
    tracer: trace.getTracer(`fortress-${options.service}`),
    meter: metrics.getMeter(`fortress-${options.service}`),
    metricsHandler: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    shutdown: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
    },
  };
}

/**
 * Telemetry for tools and tests that are not services: the global API's tracer and meter
 * (no-ops unless a provider was registered), no exporters.
 */
export function apiTelemetry(name: string): Telemetry {
  return {
    tracer: trace.getTracer(name),
    meter: metrics.getMeter(name),
    metricsHandler: (_req, res) => res.writeHead(404).end(),
    shutdown: () => Promise.resolve(),
  };
}
