/**
 * The MCP path (part of `npm run bench`): in one session, loads (1) the fake Zendesk directly
 * (GET a ticket, as the connector does), (2) Fortress `tools/call zendesk__get_ticket` fully
 * governed with redaction off, (3) the same with redaction on (email, phone, SSN, card), and,
 * for the goal's yardstick, (4) the sandbox Anthropic API directly and (5) PAT Fortress
 * (`/v1/messages`, non-streaming), at each concurrency of BENCH_CONCURRENCY (default 1 and 32).
 * Every target is checked once before it is measured (a result, not a JSON-RPC error; masked
 * text where redaction is on). Prints calls/s, p50/p90/p99 and what Fortress adds over its
 * direct upstream, and the ratio of MCP's added p50 to PAT's (the goal: at most 1.5). Writes
 * the same as JSON under bench/results/. Not a test: no thresholds.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Product } from '@fortress/proto/common/v1/common_pb';
import { KeyEnvironment } from '@fortress/proto/identity/v1/identity_pb';
import { ConnectorStatus, Effect, RedactionKind } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import { seedOrg } from '@fortress/harness/stack/seed';
import { startStack } from '@fortress/harness/stack/stack';
import { startFakeZendesk, ZENDESK_DEFAULTS } from '@fortress/sandbox/saas/zendesk';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MODEL = 'claude-haiku-4-5-20251001';
const DURATION_MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] ?? '1,32').split(',').map(Number);
const ORG = 'org_benchmcp';
const MODERN = '2026-07-28';

interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  statuses: Record<string, number>;
}

interface Target {
  name: string;
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body: string;
  /** Throws unless one answer is what a measured one must be. */
  check: (status: number, body: string) => void;
}

const enc = (s: string) => new TextEncoder().encode(s);
const ms = (v: number) => +v.toFixed(3);

async function load(t: Target, concurrency: number): Promise<LoadResult> {
  const spec = {
    url: t.url,
    method: t.method,
    headers: t.headers,
    body: t.body,
    concurrency,
    durationMs: DURATION_MS,
    warmupMs: 1000,
    stream: false,
  };
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--import',
    'tsx',
    join(HERE, 'load.ts'),
    JSON.stringify(spec),
  ]);
  return JSON.parse(stdout) as LoadResult;
}

async function verify(t: Target): Promise<void> {
  const res = await fetch(t.url, {
    method: t.method,
    headers: t.headers,
    ...(t.method === 'POST' ? { body: t.body } : {}),
  });
  t.check(res.status, await res.text());
}

/** A tools/call of the stateless 2026-07-28 era (no session, one POST). */
function toolCall(key: string): Pick<Target, 'headers' | 'body'> {
  return {
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'x-api-key': key,
      'mcp-protocol-version': MODERN,
      'mcp-method': 'tools/call',
      'mcp-name': 'zendesk__get_ticket',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name: 'zendesk__get_ticket',
        arguments: { id: 1 },
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN,
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    }),
  };
}

const mcpCheck = (masked: boolean) => (status: number, body: string) => {
  const json = JSON.parse(body) as { result?: { structuredContent?: unknown }; error?: unknown };
  if (status !== 200 || !json.result?.structuredContent)
    throw new Error(`tools/call answered ${status} ${body.slice(0, 300)}`);
  if (masked !== body.includes('████@████.███'))
    throw new Error(`tools/call: redaction ${masked ? 'missing' : 'unexpected'}`);
};

const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-mcp-'));
const stack = await startStack({ dataDir, fast: true, logLevel: 'warn' });
const zendesk = await startFakeZendesk();
try {
  const op = stack.operator;
  const pat = await seedOrg(op, {
    orgId: ORG,
    name: 'Bench MCP',
    patKeyId: 'pat_benchmcp',
    anthropicKey: stack.sandboxAnthropicKey,
    allowedModels: [MODEL],
  });
  await op.policyAdmin.putConnector({
    orgId: ORG,
    connector: { id: 'zendesk', type: 'zendesk', label: 'Zendesk', baseUrl: zendesk.url },
    actorId: 'bench',
  });
  await op.vaultAdmin.putCredential({
    orgId: ORG,
    id: 'conn_zendesk',
    label: 'Zendesk',
    kind: CredentialKind.API_KEY,
    material: {
      secret: enc(ZENDESK_DEFAULTS.apiToken),
      fields: { username: enc(ZENDESK_DEFAULTS.email) },
    },
    actorId: 'bench',
  });
  await op.policyAdmin.setConnectorStatus({
    orgId: ORG,
    connectorId: 'zendesk',
    status: ConnectorStatus.ACTIVE,
    reason: 'bench',
    actorId: 'bench',
  });
  const key = async (role: string) => {
    await op.policyAdmin.putRole({
      orgId: ORG,
      actorId: 'bench',
      role: {
        name: role,
        grants: [{ resourceType: 'tool', resourceId: 'zendesk__*', effect: Effect.ALLOW }],
      },
    });
    return (
      await op.identityAdmin.createApiKey({
        orgId: ORG,
        label: role,
        roles: [role],
        products: [Product.MCP],
        environment: KeyEnvironment.LIVE,
      })
    ).secret;
  };
  const plainKey = await key('plain');
  const maskedKey = await key('masked');
  await op.policyAdmin.putRedaction({
    orgId: ORG,
    role: 'masked',
    connectorId: 'zendesk',
    profile: {
      kinds: [RedactionKind.EMAIL, RedactionKind.PHONE, RedactionKind.SSN, RedactionKind.CARD],
    },
    actorId: 'bench',
  });

  const basic = Buffer.from(
    `${ZENDESK_DEFAULTS.email}/token:${ZENDESK_DEFAULTS.apiToken}`,
  ).toString('base64');
  const messages = JSON.stringify({
    model: MODEL,
    max_tokens: 64,
    messages: [{ role: 'user', content: 'benchmark' }],
  });
  const okJson = (name: string) => (status: number, body: string) => {
    if (status !== 200) throw new Error(`${name} answered ${status} ${body.slice(0, 300)}`);
  };
  const saasDirect: Target = {
    name: 'zendesk direct',
    url: `${zendesk.url}/api/v2/tickets/1.json`,
    method: 'GET',
    headers: { authorization: `Basic ${basic}` },
    body: '',
    check: okJson('zendesk direct'),
  };
  const mcpPlain: Target = {
    name: 'fortress mcp (redaction off)',
    url: `${stack.edgeUrl}/v1/mcp`,
    method: 'POST',
    ...toolCall(plainKey),
    check: mcpCheck(false),
  };
  const mcpMasked: Target = {
    name: 'fortress mcp (redaction on)',
    url: `${stack.edgeUrl}/v1/mcp`,
    method: 'POST',
    ...toolCall(maskedKey),
    check: mcpCheck(true),
  };
  const anthropicDirect: Target = {
    name: 'anthropic sandbox direct',
    url: `${stack.sandbox.url}/v1/messages`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-api-key': stack.sandboxAnthropicKey,
    },
    body: messages,
    check: okJson('anthropic direct'),
  };
  const patFortress: Target = {
    name: 'fortress pat (json)',
    url: `${stack.edgeUrl}/v1/messages`,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      authorization: `Bearer ${pat.orgKey}`,
    },
    body: messages,
    check: okJson('fortress pat'),
  };
  const targets = [saasDirect, mcpPlain, mcpMasked, anthropicDirect, patFortress];
  for (const t of targets) await verify(t);

  const rows: Array<Record<string, unknown>> = [];
  const goal: Array<Record<string, unknown>> = [];
  for (const concurrency of CONCURRENCY) {
    const r = new Map<Target, LoadResult>();
    for (const t of targets) r.set(t, await load(t, concurrency));
    const base = (t: Target) =>
      r.get(
        t === mcpPlain || t === mcpMasked || t === saasDirect ? saasDirect : anthropicDirect,
      ) as LoadResult;
    for (const t of targets) {
      const x = r.get(t) as LoadResult;
      const b = base(t);
      rows.push({
        target: t.name,
        concurrency,
        'calls/s': Math.round(x.rps),
        'p50 ms': ms(x.p50),
        'p90 ms': ms(x.p90),
        'p99 ms': ms(x.p99),
        'added p50 ms': ms(x.p50 - b.p50),
        'added p90 ms': ms(x.p90 - b.p90),
        'added p99 ms': ms(x.p99 - b.p99),
        statuses: JSON.stringify(x.statuses),
      });
    }
    const added = (t: Target) => (r.get(t) as LoadResult).p50 - base(t).p50;
    goal.push({
      concurrency,
      'pat added p50 ms': ms(added(patFortress)),
      'mcp added p50 ms (off)': ms(added(mcpPlain)),
      'mcp added p50 ms (on)': ms(added(mcpMasked)),
      'ratio off': +(added(mcpPlain) / added(patFortress)).toFixed(2),
      'ratio on': +(added(mcpMasked) / added(patFortress)).toFixed(2),
    });
  }
  console.log(
    `\nMCP path, ${DURATION_MS / 1000}s per run, Node ${process.version}, ${new Date().toISOString()}`,
  );
  console.table(rows);
  console.log('Goal: MCP added p50 at most 1.5 × PAT added p50 (same run):');
  console.table(goal);
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const result = {
    at: new Date().toISOString(),
    node: process.version,
    durationMs: DURATION_MS,
    rows,
    goal,
  };
  const file = join(HERE, 'results', `mcp-${result.at.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(result, null, 2));
  console.log(`written to ${file}`);
} finally {
  await zendesk.close();
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
