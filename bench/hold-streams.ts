/**
 * Holds many slow SSE streams open at once (the memory measurement of the PAT benchmark), in its
 * own process: sends `count` streaming POSTs, each on its own connection, spread evenly over
 * `rampMs`, reads their bodies, keeps them open `holdMs` after the last is sent, then closes
 * those still open. Prints `{"event":"all-sent"}` when the last request is sent,
 * `{"event":"hold-end"}` before closing, and a final summary line: statuses (as the response
 * heads arrived), how many requests were in flight (sent, not ended) and streaming (first byte
 * received, not ended) at most and at the end of the hold, and how many failed or ended early.
 * Input: one JSON argument.
 */
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';

interface HoldSpec {
  url: string;
  headers: Record<string, string>;
  body: string;
  count: number;
  rampMs: number;
  holdMs: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as HoldSpec;
const target = new URL(spec.url);
const body = Buffer.from(spec.body);
const started = performance.now();
const statuses: Record<string, number> = {};
const open = new Set<http.ClientRequest>();
let closing = false;
let inFlight = 0;
let streaming = 0;
let maxInFlight = 0;
let maxStreaming = 0;
let failed = 0;
let endedEarly = 0;

function stream(): Promise<void> {
  inFlight++;
  maxInFlight = Math.max(maxInFlight, inFlight);
  return new Promise<void>((resolve) => {
    let gotByte = false;
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      open.delete(req);
      inFlight--;
      if (gotByte) streaming--;
      if (!closing) {
        if (ok) endedEarly++;
        else failed++;
      }
      resolve();
    };
    const req = http.request(
      {
        hostname: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        agent: false,
        headers: { ...spec.headers, 'content-length': String(body.length) },
      },
      (res) => {
        statuses[res.statusCode ?? 0] = (statuses[res.statusCode ?? 0] ?? 0) + 1;
        res.on('data', () => {
          if (gotByte) return;
          gotByte = true;
          streaming++;
          maxStreaming = Math.max(maxStreaming, streaming);
        });
        res.on('end', () => finish(res.statusCode === 200));
        res.on('error', () => finish(false));
        res.on('close', () => finish(false));
      },
    );
    open.add(req);
    req.on('error', () => finish(false));
    req.end(body);
  });
}

const all: Array<Promise<void>> = [];
for (let i = 0; i < spec.count; i++) {
  const due = started + (spec.rampMs * i) / spec.count;
  const wait = due - performance.now();
  if (wait > 1) await sleep(wait);
  all.push(stream());
}
const line = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
line({ event: 'all-sent', atMs: performance.now() - started, inFlight, streaming });
await sleep(spec.holdMs);
const atHoldEnd = { inFlight, streaming };
line({ event: 'hold-end', atMs: performance.now() - started, ...atHoldEnd });
closing = true;
for (const req of open) req.destroy();
await Promise.all(all);
line({
  event: 'done',
  count: spec.count,
  statuses,
  maxInFlight,
  maxStreaming,
  inFlightAtHoldEnd: atHoldEnd.inFlight,
  streamingAtHoldEnd: atHoldEnd.streaming,
  failed,
  endedEarly,
});
