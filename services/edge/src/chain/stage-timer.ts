import type { Histogram } from '@opentelemetry/api';

/** Stages of a gateway request whose latency we track separately. */
export type Stage =
  'identity' | 'posture' | 'policy' | 'audit_publish' | 'vault' | 'upstream' | 'total';

/** Runs `fn`, records its duration under `stage`, and returns its result and microseconds. */
export async function timed<T>(
  histogram: Histogram,
  stage: Stage,
  fn: () => Promise<T>,
): Promise<{ value: T; us: number }> {
  const started = performance.now();
  try {
    const value = await fn();
    return { value, us: Math.round((performance.now() - started) * 1000) };
  } finally {
    histogram.record(performance.now() - started, { stage });
  }
}
