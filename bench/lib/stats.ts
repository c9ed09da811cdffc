/** Percentiles (ms) and rate of a set of latencies measured over `seconds`. */
export function summarize(latencies: number[], seconds: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return {
    count: sorted.length,
    perSecond: sorted.length / seconds,
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
  };
}

/** Runs `fn` back to back for `ms`, after a warm-up, and summarizes the latencies. */
export async function measure(fn: () => unknown, ms: number, warmupMs = 500) {
  const warmEnd = performance.now() + warmupMs;
  while (performance.now() < warmEnd) await fn();
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + ms;
  while (performance.now() < end) {
    const t0 = performance.now();
    await fn();
    latencies.push(performance.now() - t0);
  }
  return summarize(latencies, (performance.now() - start) / 1000);
}
