/**
 * The PAT path (part of `npm run bench`): loads, in one session and against the same sandbox
 * upstream, (1) the upstream directly, (2) a bare Node pass-through proxy and (3) Fortress fully governed, at
 * concurrency 1 and 16. Prints requests/s and p50/p90/p99 latency added over the direct
 * upstream, then each stage's mean share of a Fortress request (from the edge's per-stage
 * histograms). Writes the same as JSON under bench/results/. Not a test: no thresholds.
 */
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { seedOrg } from '@fortress/harness/stack/seed';
import { startStack } from '@fortress/harness/stack/stack';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODEL = 'claude-haiku-4-5-20251001';
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,16').split(',').map(Number);
const STAGES = ['identity', 'posture', 'policy', 'audit_publish', 'vault', 'upstream', 'total'];

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  statuses: Record<string, number>;
}

/** Runs the load generator in its own process (the sandbox upstream lives in this one). */
async function load(
  url: string,
  headers: Record<string, string>,
  concurrency: number,
): Promise<LoadResult> {
  const spec = {
    url,
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({
      model: MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'benchmark' }],
    }),
    concurrency,
    durationMs: DURATION_MS,
    warmupMs: 1000,
  };
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    join(HERE, 'load.ts'),
    JSON.stringify(spec),
  ]);
  return JSON.parse(stdout) as LoadResult;
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

async function startPassthrough(upstreamUrl: string, apiKey: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(HERE, 'passthrough-proxy.ts')], {
    env: { ...process.env, UPSTREAM_URL: upstreamUrl, UPSTREAM_API_KEY: apiKey },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout }).once('line', resolve),
  );
  return {
    url: `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`,
    stop: () => child.kill('SIGTERM'),
  };
}

const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-'));
const stack = await startStack({ dataDir, fast: true, logLevel: 'warn' });
try {
  const org = await seedOrg(stack.operator, {
    orgId: 'org_bench',
    name: 'Bench',
    patKeyId: 'pat_bench',
    anthropicKey: stack.sandboxAnthropicKey,
    allowedModels: [MODEL],
  });
  const passthrough = await startPassthrough(stack.sandbox.url, stack.sandboxAnthropicKey);
  const targets = [
    {
      name: 'upstream direct',
      url: `${stack.sandbox.url}/v1/messages`,
      headers: { 'x-api-key': stack.sandboxAnthropicKey },
    },
    { name: 'node pass-through', url: `${passthrough.url}/v1/messages`, headers: {} },
    {
      name: 'fortress (governed)',
      url: `${stack.edgeUrl}/v1/messages`,
      headers: { authorization: `Bearer ${org.orgKey}` },
    },
  ];
  const rows: Array<Record<string, unknown>> = [];
  const stageShares: Record<string, Record<string, number>> = {};
  for (const concurrency of CONCURRENCY) {
    const results: Record<string, LoadResult> = {};
    for (const t of targets) {
      const before = t.name.startsWith('fortress')
        ? await scrapeStages(stack.services.edge.ports.opsPort)
        : undefined;
      results[t.name] = await load(t.url, t.headers, concurrency);
      if (before) {
        const after = await scrapeStages(stack.services.edge.ports.opsPort);
        stageShares[`c${concurrency}`] = Object.fromEntries(
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
    const base = results['upstream direct'] as LoadResult;
    for (const t of targets) {
      const r = results[t.name] as LoadResult;
      rows.push({
        target: t.name,
        concurrency,
        'req/s': Math.round(r.rps),
        'p50 ms': +r.p50.toFixed(3),
        'p90 ms': +r.p90.toFixed(3),
        'p99 ms': +r.p99.toFixed(3),
        'added p50 ms': +(r.p50 - base.p50).toFixed(3),
        'added p90 ms': +(r.p90 - base.p90).toFixed(3),
        'added p99 ms': +(r.p99 - base.p99).toFixed(3),
        statuses: JSON.stringify(r.statuses),
      });
    }
  }
  passthrough.stop();
  console.log(
    `\nPAT path, ${DURATION_MS / 1000}s per run, Node ${process.version}, ${new Date().toISOString()}`,
  );
  console.table(rows);
  console.log('Mean time per stage of a governed request (ms), from the edge histograms:');
  console.table(
    Object.fromEntries(
      Object.entries(stageShares).map(([c, s]) => [
        c,
        Object.fromEntries(Object.entries(s).map(([k, v]) => [k, +v.toFixed(3)])),
      ]),
    ),
  );
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    durationMs: DURATION_MS,
    rows,
    stageMeansMs: stageShares,
  };
  const file = join(HERE, 'results', `pat-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  writeFileSync(join(HERE, 'results', 'latest.json'), JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
