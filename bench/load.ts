/**
 * A closed-loop load generator, run as its own process so that it does not share an event loop
 * with what it measures: `concurrency` workers send the same POST back to back over keep-alive
 * connections for `durationMs`, and every latency is recorded with sub-millisecond precision.
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
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;
const target = new URL(spec.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
const body = Buffer.from(spec.body);

function once(): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname + target.search,
        method: 'POST',
        agent,
        headers: { ...spec.headers, 'content-length': String(body.length) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function run(durationMs: number, record: boolean) {
  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        const status = await once().catch(() => 0);
        if (!record) continue;
        latencies.push(performance.now() - t0);
        statuses[status] = (statuses[status] ?? 0) + 1;
      }
    }),
  );
  return { latencies, statuses, seconds: (performance.now() - started) / 1000 };
}

await run(spec.warmupMs, false);
const { latencies, statuses, seconds } = await run(spec.durationMs, true);
latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? NaN;
process.stdout.write(
  `${JSON.stringify({ requests: latencies.length, rps: latencies.length / seconds, p50: pct(50), p90: pct(90), p99: pct(99), statuses })}\n`,
);
agent.destroy();
