/**
 * The PAT path (part of `npm run bench`): loads, in one session and against the same sandbox
 * upstream, (1) the upstream directly, (2) a bare Node pass-through proxy, (3) Portkey's
 * open-source gateway (`@portkey-ai/gateway`, bound to loopback by bench/portkey-server.ts) and
 * (4) Fortress fully governed, at each concurrency of BENCH_CONCURRENCY (default 1 and 32), each
 * non-streaming and streaming (the whole SSE body is read; latency is to its end, TTFB to its
 * first event). Every target is checked once per mode (200 and a valid Messages answer) before
 * it is measured. Prints requests/s, p50/p90/p99 latency and what each adds over the direct
 * upstream, the peak RSS of the proxy process during the run (for Fortress: the edge), each
 * stage's mean share of a Fortress request (from the edge's per-stage histograms), and the
 * edge's RSS before, at peak and after holding BENCH_MEMORY_STREAMS (default 1000) slow streams
 * open at once. Writes the same as JSON under bench/results/. Not a test: no thresholds.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { seedOrg } from '@fortress/harness/stack/seed';
import { startStack } from '@fortress/harness/stack/stack';
import { checkMessage, checkStream } from './lib/anthropic-check.js';
import { rssMb, sampleRss } from './lib/rss.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODEL = 'claude-haiku-4-5-20251001';
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,32').split(',').map(Number);
/** Requests sent and discarded before measuring, per target (JIT and connection warm-up). */
const WARMUP_MS = Number(process.env['BENCH_WARMUP_MS'] ?? 1000);
const MEMORY_STREAMS = Number(process.env['BENCH_MEMORY_STREAMS'] ?? 1000);
/** Delay between the events of a slow stream (the sandbox's FAKE_SLOW_STREAM:<ms>). */
const SLOW_STREAM_MS = Number(process.env['BENCH_SLOW_STREAM_MS'] ?? 3000);
/** The slow streams are opened evenly over this long (the governed path admits ~70/s here). */
const MEMORY_RAMP_MS = Number(process.env['BENCH_MEMORY_RAMP_MS'] ?? 20_000);
/** How long all of them are held open after the last is sent; then the client closes them. */
const MEMORY_HOLD_MS = Number(process.env['BENCH_MEMORY_HOLD_MS'] ?? 10_000);
const STAGES = ['identity', 'posture', 'policy', 'audit_publish', 'vault', 'upstream', 'total'];
const MODES = ['json', 'stream'] as const;
type Mode = (typeof MODES)[number];
const PORTKEY_VERSION = (
  JSON.parse(
    readFileSync(
      join(HERE, '..', 'node_modules', '@portkey-ai', 'gateway', 'package.json'),
      'utf8',
    ),
  ) as { version: string }
).version;

interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
}

interface LoadResult extends Percentiles {
  requests: number;
  rps: number;
  ttfb: Percentiles;
  statuses: Record<string, number>;
  incomplete: number;
}

interface Target {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The proxy process whose RSS is sampled (none for the in-process upstream). */
  pid: () => number | undefined;
}

const BASE_HEADERS = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };

function requestBody(stream: boolean, content = 'benchmark'): string {
  return JSON.stringify({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: 'user', content }],
    ...(stream ? { stream: true } : {}),
  });
}

/** Runs the load generator in its own process (the sandbox upstream lives in this one). */
async function load(t: Target, mode: Mode, concurrency: number): Promise<LoadResult> {
  const spec = {
    url: t.url,
    headers: { ...BASE_HEADERS, ...t.headers },
    body: requestBody(mode === 'stream'),
    concurrency,
    durationMs: DURATION_MS,
    warmupMs: WARMUP_MS,
    stream: mode === 'stream',
  };
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    join(HERE, 'load.ts'),
    JSON.stringify(spec),
  ]);
  return JSON.parse(stdout) as LoadResult;
}

/** One request per mode; throws unless the answer is a 200 and a valid Messages answer. */
async function verify(t: Target, expectedText: string): Promise<void> {
  for (const mode of MODES) {
    const res = await fetch(t.url, {
      method: 'POST',
      headers: { ...BASE_HEADERS, ...t.headers },
      body: requestBody(mode === 'stream'),
    });
    const body = await res.text();
    const name = `${t.name} (${mode})`;
    const text =
      mode === 'stream'
        ? checkStream(name, res.status, body)
        : checkMessage(name, res.status, body);
    if (text !== expectedText)
      throw new Error(
        `${name}: text ${JSON.stringify(text)}, expected ${JSON.stringify(expectedText)}`,
      );
  }
}

async function scrapeStages(
  opsPort: number,
): Promise<Record<string, { sum: number; count: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const out: Record<string, { sum: number; count: number }> = {};
  for (const stage of STAGES) {
    const value = (suffix: string) => {
      const line = text
        .split('\n')
        .find((l) => l.startsWith(`fortress_edge_stage_duration_${suffix}{stage="${stage}"`));
      return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
    };
    out[stage] = { sum: value('sum'), count: value('count') };
  }
  return out;
}

/** Spawns a proxy script and waits for the line (after `marker`) that carries its port. */
async function startProxy(
  script: string,
  args: string[],
  env: Record<string, string>,
  marker = '',
): Promise<{ url: string; child: ChildProcess; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, script), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
    lines.on('line', (line) => {
      if (!line.startsWith(marker)) return;
      clearTimeout(timer);
      resolve((JSON.parse(line.slice(marker.length)) as { port: number }).port);
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stop: () => child.kill('SIGTERM'),
  };
}

/**
 * Holds MEMORY_STREAMS slow streams open through the target (opened over MEMORY_RAMP_MS, held
 * MEMORY_HOLD_MS more, then closed by the client), sampling the RSS of its process.
 */
async function memoryUnderStreams(t: Target) {
  // ~60 words make the sandbox's reply 15 events, so 14 gaps of SLOW_STREAM_MS: each stream
  // lasts 14 × 3 s = 42 s by default, longer than the ramp and the hold together.
  const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
  const spec = {
    url: t.url,
    headers: { ...BASE_HEADERS, ...t.headers },
    body: requestBody(true, `FAKE_SLOW_STREAM:${SLOW_STREAM_MS} ${words}`),
    count: MEMORY_STREAMS,
    rampMs: MEMORY_RAMP_MS,
    holdMs: MEMORY_HOLD_MS,
  };
  await sleep(2000);
  const beforeMb = rssMb(t.pid());
  const sampler = sampleRss(t.pid());
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(HERE, 'hold-streams.ts'), JSON.stringify(spec)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let allSentMb = NaN;
  let holdEndMb = NaN;
  let summary: Record<string, unknown> = {};
  for await (const line of createInterface({ input: child.stdout })) {
    const msg = JSON.parse(line) as { event: string } & Record<string, unknown>;
    if (msg.event === 'all-sent') allSentMb = rssMb(t.pid());
    if (msg.event === 'hold-end') holdEndMb = rssMb(t.pid());
    if (msg.event === 'done') summary = msg;
  }
  // Closing the streams costs memory too: the peak also covers the 5 s after, `after` is their end.
  await sleep(5000);
  const { peakMb, lastMb: afterMb } = sampler.stop();
  const mb = (v: number) => +v.toFixed(1);
  return {
    target: t.name,
    streams: MEMORY_STREAMS,
    slowStreamMs: SLOW_STREAM_MS,
    rampMs: MEMORY_RAMP_MS,
    holdMs: MEMORY_HOLD_MS,
    statuses: summary['statuses'],
    maxInFlight: summary['maxInFlight'],
    maxStreaming: summary['maxStreaming'],
    inFlightAtHoldEnd: summary['inFlightAtHoldEnd'],
    streamingAtHoldEnd: summary['streamingAtHoldEnd'],
    failed: summary['failed'],
    endedEarly: summary['endedEarly'],
    rssBeforeMb: mb(beforeMb),
    rssAllSentMb: mb(allSentMb),
    rssHoldEndMb: mb(holdEndMb),
    rssPeakMb: mb(peakMb),
    rssAfterMb: mb(afterMb),
    peakMinusBeforeMb: mb(peakMb - beforeMb),
  };
}

const ms = (v: number) => +v.toFixed(3);

const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-'));
const stack = await startStack({ dataDir, fast: true, logLevel: 'warn' });
const stopProxies: Array<() => void> = [];
try {
  const org = await seedOrg(stack.operator, {
    orgId: 'org_bench',
    name: 'Bench',
    patKeyId: 'pat_bench',
    anthropicKey: stack.sandboxAnthropicKey,
    allowedModels: [MODEL],
  });
  const passthrough = await startProxy('passthrough-proxy.ts', [], {
    UPSTREAM_URL: stack.sandbox.url,
    UPSTREAM_API_KEY: stack.sandboxAnthropicKey,
  });
  stopProxies.push(passthrough.stop);
  const portkey = await startProxy(
    'portkey-server.ts',
    ['--port=0', '--headless'],
    {},
    'PORTKEY_LOOPBACK_READY ',
  );
  stopProxies.push(portkey.stop);
  const edge = stack.services.edge;
  const targets: Target[] = [
    {
      name: 'upstream direct',
      url: `${stack.sandbox.url}/v1/messages`,
      headers: { 'x-api-key': stack.sandboxAnthropicKey },
      pid: () => undefined,
    },
    {
      name: 'node pass-through',
      url: `${passthrough.url}/v1/messages`,
      headers: {},
      pid: () => passthrough.child.pid,
    },
    {
      name: `portkey ${PORTKEY_VERSION}`,
      url: `${portkey.url}/v1/messages`,
      headers: {
        'x-portkey-provider': 'anthropic',
        'x-portkey-custom-host': `${stack.sandbox.url}/v1`,
        'x-api-key': stack.sandboxAnthropicKey,
      },
      pid: () => portkey.child.pid,
    },
    {
      name: 'fortress (governed)',
      url: `${stack.edgeUrl}/v1/messages`,
      headers: { authorization: `Bearer ${org.orgKey}` },
      pid: () => edge.pid,
    },
  ];
  const direct = targets[0] as Target;
  const fortress = targets[3] as Target;

  const probe = await fetch(direct.url, {
    method: 'POST',
    headers: { ...BASE_HEADERS, ...direct.headers },
    body: requestBody(false),
  });
  const expectedText = checkMessage(direct.name, probe.status, await probe.text());
  for (const t of targets) await verify(t, expectedText);

  const rows: Array<Record<string, unknown>> = [];
  const stageShares: Record<string, Record<string, number>> = {};
  for (const concurrency of CONCURRENCY) {
    for (const mode of MODES) {
      const results = new Map<Target, LoadResult & { rssPeakMb: number }>();
      for (const t of targets) {
        const before = t === fortress ? await scrapeStages(edge.ports.opsPort) : undefined;
        const sampler = sampleRss(t.pid(), 250);
        const r = await load(t, mode, concurrency);
        results.set(t, { ...r, rssPeakMb: sampler.stop().peakMb });
        if (before) {
          const after = await scrapeStages(edge.ports.opsPort);
          stageShares[`c${concurrency} ${mode}`] = Object.fromEntries(
            STAGES.map((s) => {
              const d = {
                sum: (after[s]?.sum ?? 0) - (before[s]?.sum ?? 0),
                count: (after[s]?.count ?? 0) - (before[s]?.count ?? 0),
              };
              return [s, d.count ? d.sum / d.count : 0];
            }),
          );
        }
      }
      const base = results.get(direct) as LoadResult;
      for (const t of targets) {
        const r = results.get(t) as LoadResult & { rssPeakMb: number };
        rows.push({
          target: t.name,
          mode,
          concurrency,
          'req/s': Math.round(r.rps),
          'p50 ms': ms(r.p50),
          'p90 ms': ms(r.p90),
          'p99 ms': ms(r.p99),
          'added p50 ms': ms(r.p50 - base.p50),
          'added p90 ms': ms(r.p90 - base.p90),
          'added p99 ms': ms(r.p99 - base.p99),
          ...(mode === 'stream'
            ? {
                'ttfb p50 ms': ms(r.ttfb.p50),
                'ttfb p99 ms': ms(r.ttfb.p99),
                'added ttfb p50 ms': ms(r.ttfb.p50 - base.ttfb.p50),
              }
            : {}),
          'peak RSS MB': Number.isNaN(r.rssPeakMb) ? '-' : +r.rssPeakMb.toFixed(1),
          statuses:
            JSON.stringify(r.statuses) + (r.incomplete ? ` incomplete=${r.incomplete}` : ''),
        });
      }
    }
  }

  const memory = MEMORY_STREAMS > 0 ? await memoryUnderStreams(fortress) : undefined;
  for (const stop of stopProxies.splice(0)) stop();

  console.log(
    `\nPAT path, ${DURATION_MS / 1000}s per run, Node ${process.version}, ${new Date().toISOString()}`,
  );
  for (const mode of MODES) {
    console.log(
      mode === 'stream'
        ? 'Streaming ("stream": true; latency to the end of the SSE body, TTFB to its first event):'
        : 'Non-streaming:',
    );
    console.table(
      rows
        .filter((r) => r['mode'] === mode)
        .map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== 'mode'))),
    );
  }
  console.log(
    'peak RSS MB: the proxy process during the run (Fortress: the edge only, not its backends).',
  );
  console.log('Mean time per stage of a governed request (ms), from the edge histograms:');
  console.table(
    Object.fromEntries(
      Object.entries(stageShares).map(([c, s]) => [
        c,
        Object.fromEntries(Object.entries(s).map(([k, v]) => [k, +v.toFixed(3)])),
      ]),
    ),
  );
  if (memory) {
    console.log(
      `Edge RSS (MB) with ${memory.streams} slow streams (FAKE_SLOW_STREAM:${SLOW_STREAM_MS}) opened over ${MEMORY_RAMP_MS / 1000} s, held ${MEMORY_HOLD_MS / 1000} s, then closed:`,
    );
    console.table({
      ...memory,
      statuses: JSON.stringify(memory.statuses),
    });
  }
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    durationMs: DURATION_MS,
    portkey: {
      version: PORTKEY_VERSION,
      bind: '127.0.0.1 (bench/portkey-server.ts forces the listen host)',
    },
    rows,
    stageMeansMs: stageShares,
    memory,
  };
  const file = join(HERE, 'results', `pat-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  writeFileSync(join(HERE, 'results', 'latest.json'), JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
} finally {
  for (const stop of stopProxies) stop();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
