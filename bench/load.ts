/**
 * A closed-loop load generator, run as its own process so that it does not share an event loop
 * with what it measures: `concurrency` workers send the same request back to back over keep-alive
 * connections for `durationMs`, and every latency is recorded with sub-millisecond precision.
 * Each response body is read to its end: the latency is the time to the end of the body, the
 * time to first byte the time to its first chunk (for a stream, the first SSE event). With
 * `stream`, a 200 whose body does not end with `message_stop` counts as incomplete.
 * Input: one JSON argument; output: one JSON line.
 */
import http from 'node:http';

interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  stream: boolean;
  /** POST by default; a GET sends no body. */
  method?: string;
}

interface Sample {
  status: number;
  ttfb: number;
  total: number;
  complete: boolean;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const target = new URL(spec.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
const method = spec.method ?? 'POST';
const body = method === 'GET' ? Buffer.alloc(0) : Buffer.from(spec.body);
const END_OF_STREAM = 'event: message_stop';

function once(): Promise<Sample> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method,
        agent,
        headers: {
          ...spec.headers,
          ...(method === 'GET' ? {} : { 'content-length': String(body.length) }),
        },
      },
      (res) => {
        let ttfb = NaN;
        let tail = '';
        res.on('data', (chunk: Buffer) => {
          if (Number.isNaN(ttfb)) ttfb = performance.now() - t0;
          if (spec.stream) tail = (tail + chunk.toString('latin1')).slice(-256);
        });
        res.on('end', () => {
          const total = performance.now() - t0;
          resolve({
            status: res.statusCode ?? 0,
            ttfb: Number.isNaN(ttfb) ? total : ttfb,
            total,
            complete: !spec.stream || tail.includes(END_OF_STREAM),
          });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(durationMs: number, record: boolean) {
  const latencies: number[] = [];
  const ttfbs: number[] = [];
  const statuses: Record<string, number> = {};
  let incomplete = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const s = await once().catch((): Sample => ({
          status: 0,
          ttfb: NaN,
          total: performance.now() - t0,
          complete: false,
        }));
        if (!record) continue;
        latencies.push(s.total);
        if (!Number.isNaN(s.ttfb)) ttfbs.push(s.ttfb);
        statuses[s.status] = (statuses[s.status] ?? 0) + 1;
        if (s.status === 200 && !s.complete) incomplete++;
      }
    }),
  );
  return { latencies, ttfbs, statuses, incomplete, seconds: (performance.now() - started) / 1000 };
}

function percentiles(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  const pct = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
  return { p50: pct(50), p90: pct(90), p99: pct(99) };
}

await run(spec.warmupMs, false);
const { latencies, ttfbs, statuses, incomplete, seconds } = await run(spec.durationMs, true);
process.stdout.write(
  `${JSON.stringify({
    requests: latencies.length,
    rps: latencies.length / seconds,
    ...percentiles(latencies),
    ttfb: percentiles(ttfbs),
    statuses,
    incomplete,
  })}\n`,
);
agent.destroy();
