import { trace } from '@opentelemetry/api';
import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Field names whose values are never written, wherever they appear in a log object (two
 * levels deep, which covers `req.headers.x` and `err.x`). Secrets should also travel as
 * `Secret`, which serialises as "[redacted]"; this list is the second line of defence.
 */
const SENSITIVE_KEYS = [
  'authorization',
  'x-api-key',
  'apiKey',
  'api_key',
  'password',
  'secret',
  'token',
  'idpToken',
  'decisionToken',
  'decision_token',
  'plaintext',
  'material',
  'cookie',
  'set-cookie',
];

/** Every path pino should censor: the key at the top level and up to two levels down. */
function redactPaths(): string[] {
  return SENSITIVE_KEYS.flatMap((k) => {
    const key = /^[A-Za-z_]\w*$/.test(k) ? k : `["${k}"]`;
    const dot = key.startsWith('[') ? '' : '.';
    return [key, `*${dot}${key}`, `*.*${dot}${key}`];
  });
}

/** Options for a service logger. */
export interface LoggerOptions {
  service: string;
  level?: string;
  /** Where to write; stdout by default. */
  destination?: NodeJS.WritableStream;
}

/**
 * Creates the structured JSON logger of a service: one JSON object per line, with the
 * service name, the active trace and span ids, and sensitive fields censored.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths(), censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getActiveSpan();
        if (!span) return {};
        const ctx = span.spanContext();
        return { trace_id: ctx.traceId, span_id: ctx.spanId };
      },
    },
    options.destination ?? process.stdout,
  );
}
