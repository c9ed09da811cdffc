/**
 * Audit ingestion benchmark: sustained events/s into the hash-chained audit log with zero
 * loss, and the consumer's lag at that rate. Starts a whole local Fortress, publishes decision
 * events to JetStream exactly as the edge does (ack awaited), and measures
 *   - steady: a fixed rate (BENCH_AUDIT_RATE, default 5000/s) for BENCH_AUDIT_SECONDS (15):
 *     consumer lag sampled from the NATS monitor, and each event's time from publish to commit
 *     (recorded_at - occurred_at of its row);
 *   - flood: BENCH_AUDIT_FLOOD events (60000) as fast as the publisher can: the most the
 *     writer sustains.
 * After each phase: every acked event has exactly one row (zero loss, no duplicate) and every
 * org's chain verifies. PostgreSQL runs durably (fsync on) unless BENCH_AUDIT_FAST=1.
 * Prints a table and writes JSON to bench/results/. Not a test: no thresholds.
 *
 *   node --import tsx bench/audit.ts
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create } from '@bufbuild/protobuf';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import pg from 'pg';
import { createLogger } from '@fortress/kit/log';
import { Decision, Hop, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { connectEventBus } from '@fortress/kit/event-bus';
import { apiTelemetry } from '@fortress/kit/telemetry';
import { startStack } from '@fortress/harness/stack/stack';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const RATE = Number(process.env['BENCH_AUDIT_RATE'] ?? 5000);
const SECONDS = Number(process.env['BENCH_AUDIT_SECONDS'] ?? 15);
const FLOOD = Number(process.env['BENCH_AUDIT_FLOOD'] ?? 60_000);
const ORGS = Number(process.env['BENCH_AUDIT_ORGS'] ?? 10);
const FAST = process.env['BENCH_AUDIT_FAST'] === '1';
/** Publishes awaiting their JetStream ack at once (the edge has one per request in flight). */
const WINDOW = 1000;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) : 0;
};

/** A decision event the size and shape the edge publishes. */
const decision = (orgId: string, i: number) =>
  create(EventEnvelopeSchema, {
    eventId: crypto.randomUUID(),
    orgId,
    occurredAt: timestampNow(),
    source: 'edge',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    payload: {
      case: 'decision',
      value: {
        requestId: `req_bench_${i}`,
        product: Product.PAT,
        actor: {
          kind: PrincipalKind.ORG_KEY,
          subjectId: 'key_bench',
          apiKeyId: 'key_bench',
          roles: ['developer'],
        },
        action: 'pat:messages.create',
        resource: 'model:claude-haiku-4-5-20251001',
        decision: i % 10 === 0 ? Decision.DENY : Decision.ALLOW,
        decidedBy: Hop.POLICY,
        reasons: [
          {
            code: 'allowed',
            message: 'allowed by role grant',
            ruleId: 'role:developer:allow:model:*',
          },
        ],
        policyVersion: '3',
        clientIp: '127.0.0.1',
        identityUs: 180,
        postureUs: 40,
        policyUs: 350,
        decideUs: 700,
      },
    },
  });

const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-audit-'));
const stack = await startStack({
  dataDir,
  fast: FAST,
  logLevel: 'warn',
  // Extra audit configuration as JSON, e.g. '{"FORTRESS_AUDIT_BATCH_MAX":"1000"}', or
  // '{"NODE_OPTIONS":"--cpu-prof --cpu-prof-dir=/tmp/prof"}' to profile the writer.
  serviceEnv: {
    audit: JSON.parse(process.env['BENCH_AUDIT_SERVICE_ENV'] ?? '{}') as Record<string, string>,
  },
});
const logger = createLogger({ service: 'bench', level: 'silent' });
const bus = await connectEventBus({
  url: stack.nats.url,
  service: 'bench',
  logger,
  telemetry: apiTelemetry('bench'),
});
const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
await admin.connect();

/** Rows committed for orgs of one phase (the sum of their chain heads: cheap to ask often). */
const committed = async (prefix: string) =>
  Number(
    (
      await admin.query<{ n: string }>(
        "SELECT coalesce(sum(seq), 0)::text AS n FROM audit.chain_heads WHERE org_id LIKE $1 || '%'",
        [prefix],
      )
    ).rows[0]?.n ?? 0,
  );

/** The durable consumer's backlog from the NATS monitor: not yet delivered plus unacked. */
async function lag(): Promise<number> {
  const res = await fetch(`${stack.nats.monitorUrl}/jsz?consumers=true`);
  const body = (await res.json()) as {
    account_details?: Array<{
      stream_detail?: Array<{
        consumer_detail?: Array<{ name: string; num_pending: number; num_ack_pending: number }>;
      }>;
    }>;
  };
  for (const a of body.account_details ?? [])
    for (const s of a.stream_detail ?? [])
      for (const c of s.consumer_detail ?? [])
        if (c.name === 'audit-writer') return c.num_pending + c.num_ack_pending;
  return 0;
}

interface PhaseResult {
  phase: string;
  'target/s': number | string;
  acked: number;
  'published/s': number;
  'committed/s': number;
  'lag p50': number;
  'lag p95': number;
  'lag max': number;
  'e2e p50 ms': number;
  'e2e p99 ms': number;
  'e2e max ms': number;
  'drain ms': number;
  lost: number;
  duplicated: number;
  verified: string;
}

/** Publishes `total` events over the phase's orgs at `rate`/s (Infinity: as fast as acks come). */
async function phase(name: string, rate: number, total: number): Promise<PhaseResult> {
  const prefix = `org_bench${name}`;
  const orgs = Array.from({ length: ORGS }, (_, i) => `${prefix}${i}`);
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let inflight = 0;
  const lags: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      lags.push(await lag());
      await pause(200);
    }
  })();
  const start = performance.now();
  while (sent < total) {
    const due = Number.isFinite(rate)
      ? Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate))
      : total;
    while (sent < due && inflight < WINDOW) {
      const i = sent++;
      inflight++;
      bus.publish(decision(orgs[i % orgs.length] ?? prefix, i), 10_000).then(
        () => ((acked += 1), (inflight -= 1)),
        () => ((failed += 1), (inflight -= 1)),
      );
    }
    await pause(sent < due ? 1 : 5);
  }
  while (inflight > 0) await pause(5);
  const published = performance.now();
  let rows = await committed(prefix);
  while (rows < acked && performance.now() - published < 180_000) {
    await pause(50);
    rows = await committed(prefix);
  }
  const done = performance.now();
  sampling = false;
  await sampler;
  const stats = await admin.query<{
    n: number;
    ids: number;
    p50: number;
    p99: number;
    max: number;
  }>(
    `SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99, max(ms) AS max
       FROM (SELECT event_id, extract(epoch FROM recorded_at - occurred_at) * 1000 AS ms
               FROM audit.events WHERE org_id LIKE $1 || '%') e`,
    [prefix],
  );
  const s = stats.rows[0];
  const verdicts = [];
  for (const orgId of orgs)
    verdicts.push(await stack.operator.audit.verify({ orgId }, { timeoutMs: 120_000 }));
  const bad = verdicts.filter((v) => !v.ok);
  if (failed) console.warn(`${name}: ${failed} publishes were not acked (not counted)`);
  return {
    phase: name,
    'target/s': Number.isFinite(rate) ? rate : 'max',
    acked,
    'published/s': Math.round(acked / ((published - start) / 1000)),
    'committed/s': Math.round((s?.n ?? 0) / ((done - start) / 1000)),
    'lag p50': pct(lags, 50),
    'lag p95': pct(lags, 95),
    'lag max': Math.max(0, ...lags),
    'e2e p50 ms': Math.round(s?.p50 ?? 0),
    'e2e p99 ms': Math.round(s?.p99 ?? 0),
    'e2e max ms': Math.round(s?.max ?? 0),
    'drain ms': Math.round(done - published),
    lost: acked - (s?.ids ?? 0),
    duplicated: (s?.n ?? 0) - (s?.ids ?? 0),
    verified: bad.length
      ? `FAILED ${bad.map((v) => v.reason).join(',')}`
      : `${orgs.length} orgs ok`,
  };
}

try {
  await phase('warmup', 2000, 4000);
  const results = [
    await phase('steady', RATE, RATE * SECONDS),
    await phase('flood', Number.POSITIVE_INFINITY, FLOOD),
  ];
  console.log(
    `\nAudit ingestion into the hash-chained log, ${ORGS} orgs, PostgreSQL ${FAST ? 'fsync off' : 'durable (fsync on)'}, Node ${process.version}, ${new Date().toISOString()}`,
  );
  console.log(
    'lag = consumer backlog in events (sampled every 200 ms); e2e = publish to commit, per event',
  );
  console.table(results);
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    orgs: ORGS,
    durable: !FAST,
    results,
  };
  const file = join(HERE, 'results', `audit-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
} finally {
  await admin.end();
  await bus.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
