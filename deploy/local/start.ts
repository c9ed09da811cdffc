/**
 * `npm start`: a complete local Fortress on loopback with a demo organisation. Data lives in
 * .fortress/ (git-ignored) and is reused on the next start; Ctrl-C or SIGTERM stops it all.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { Product } from '@fortress/proto/common/v1/common_pb';
import { seedAdmin, seedOrg } from '@fortress/harness/stack/seed';
import { startStack } from '@fortress/harness/stack/stack';
import { REPO_ROOT } from '@fortress/harness/stack/paths';
import { seedMcpDemo } from './demo-mcp.js';

const DATA_DIR = resolve(REPO_ROOT, '.fortress');
const LOCAL_FILE = join(DATA_DIR, 'local.json');
const PID_FILE = join(DATA_DIR, 'stack.pid');
const DEMO_ORG = 'org_demo';
const DEMO_PAT = 'pat_demo';
const DEMO_ADMIN = 'admin@demo.fortress.local';
const EDGE_PORT = Number(process.env['FORTRESS_EDGE_PORT'] ?? 8787);

const say = (line: string) => process.stdout.write(`${line}\n`);

function alreadyRunning(): number | undefined {
  if (!existsSync(PID_FILE)) return undefined;
  const pid = Number(readFileSync(PID_FILE, 'utf8'));
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

const running = alreadyRunning();
if (running) {
  say(
    `Fortress is already running (pid ${running}); stop it with Ctrl-C in its terminal or: kill ${running}`,
  );
  process.exit(1);
}

const t0 = performance.now();
const stack = await startStack({
  dataDir: DATA_DIR,
  edgePort: EDGE_PORT,
  onProgress: (step) => say(`==> ${step} (${((performance.now() - t0) / 1000).toFixed(1)}s)`),
}).catch((err: unknown) => {
  say(`Fortress could not start: ${err instanceof Error ? err.message : String(err)}`);
  say(`Logs are in ${join(DATA_DIR, 'logs')}.`);
  process.exit(1);
});
writeFileSync(PID_FILE, String(process.pid));

let stopping = false;
/** What the demo runs besides the stack (the sandbox SaaS), closed first. */
const demoClosers: Array<() => Promise<void>> = [];
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  say(`\n==> ${signal}: stopping Fortress`);
  for (const close of demoClosers) await close();
  await stack.stop();
  try {
    writeFileSync(PID_FILE, '');
  } catch {
    // the directory may be gone
  }
  say('==> stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

say('==> seeding the demo organisation');
// The org key is shown once by identity; the local stack keeps the demo one in local.json
// (mode 0600) for your scripts, and issues a new one if that no longer authenticates.
const previous = existsSync(LOCAL_FILE)
  ? (JSON.parse(readFileSync(LOCAL_FILE, 'utf8')) as { orgKey?: string; mcpKey?: string })
  : {};
let orgKey = previous.orgKey ?? '';
const stillValid =
  orgKey &&
  (
    await stack.operator.identity.authenticate({
      apiKey: orgKey,
      context: { requestId: 'local-start' },
    })
  ).authenticated;
if (!stillValid) {
  const seeded = await seedOrg(stack.operator, {
    orgId: DEMO_ORG,
    name: 'Demo Org',
    patKeyId: DEMO_PAT,
    anthropicKey: stack.sandboxAnthropicKey,
    allowedModels: ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'],
  });
  orgKey = seeded.orgKey;
  // Alert emails (spend threshold, credential expiring, anomalies…) to the demo admin; the
  // local SMTP sink keeps them under .fortress/mail.
  await stack.operator.alerts.setAlertSettings({
    orgId: DEMO_ORG,
    emailRecipients: [DEMO_ADMIN],
    actorId: 'local-start',
  });
}

say('==> connecting the demo Zendesk (MCP)');
const mcp = await seedMcpDemo(stack.operator, DEMO_ORG, previous.mcpKey);
demoClosers.push(mcp.close);

say('==> creating the bootstrap admin');
// The admin's password is shown once, by this start, when it creates the admin; it is not
// written anywhere. Choose it with FORTRESS_BOOTSTRAP_ADMIN_PASSWORD (12+ characters).
const chosenPassword = process.env['FORTRESS_BOOTSTRAP_ADMIN_PASSWORD'] ?? '';
const adminPassword = chosenPassword || randomBytes(18).toString('base64url');
const adminLine = await seedAdmin(stack.operator, {
  orgId: DEMO_ORG,
  email: DEMO_ADMIN,
  password: adminPassword,
  roles: ['owner'],
}).then(
  (admin) => {
    if (!admin.created) return `${DEMO_ADMIN} (exists; its password was shown when it was made)`;
    if (chosenPassword) return `${DEMO_ADMIN}, password from FORTRESS_BOOTSTRAP_ADMIN_PASSWORD`;
    return `${DEMO_ADMIN}, password ${adminPassword}  (shown once, not stored)`;
  },
  (err: unknown) => {
    if (err instanceof ConnectError && err.code === Code.InvalidArgument)
      return `not created: FORTRESS_BOOTSTRAP_ADMIN_PASSWORD was refused (${err.rawMessage})`;
    throw err;
  },
);

const local = {
  edgeUrl: stack.edgeUrl,
  orgId: DEMO_ORG,
  orgKey,
  adminEmail: DEMO_ADMIN,
  patKeyId: DEMO_PAT,
  mcpKey: mcp.mcpKey,
  products: [Product[Product.PAT], Product[Product.MCP]],
  allowedModels: ['claude-sonnet-4-5-20250929', 'claude-haiku-4-5-20251001'],
  sandboxAnthropicUrl: stack.sandbox.url,
  sandboxZendeskUrl: mcp.zendeskUrl,
  logs: join(DATA_DIR, 'logs'),
};
writeFileSync(LOCAL_FILE, JSON.stringify(local, null, 2), { mode: 0o600 });

say(`
Fortress is up in ${((performance.now() - t0) / 1000).toFixed(1)}s.

  Edge (PAT Fortress):   ${stack.edgeUrl}
  Demo org:              ${DEMO_ORG} (SOHO), PAT key ${DEMO_PAT}
  Org key:               ${orgKey}
  Admin (owner):         ${adminLine}
  Upstream (sandbox):    ${stack.sandbox.url}  (a local stand-in for api.anthropic.com)
  Allowed models:        ${local.allowedModels.join(', ')}
  Written to:            ${LOCAL_FILE} (mode 0600)
  Alert emails:          ${join(DATA_DIR, 'mail')}/*.eml  (a local SMTP sink; to ${DEMO_ADMIN})

Try it with curl:

  curl -s ${stack.edgeUrl}/v1/messages \\
    -H 'x-api-key: ${orgKey}' \\
    -H 'anthropic-version: 2023-06-01' \\
    -H 'content-type: application/json' \\
    -d '{"model":"claude-sonnet-4-5-20250929","max_tokens":256,"messages":[{"role":"user","content":"Hello, Fortress"}]}'

or with the official Anthropic SDK (only baseURL and apiKey change):

  import Anthropic from '@anthropic-ai/sdk';
  const client = new Anthropic({ baseURL: '${stack.edgeUrl}', apiKey: '${orgKey}' });
  const msg = await client.messages.create({
    model: 'claude-sonnet-4-5-20250929', max_tokens: 256,
    messages: [{ role: 'user', content: 'Hello, Fortress' }],
  });

A model outside the allowlist (e.g. claude-opus-4-1-20250805) is denied with policy_denied.

MCP Fortress: add this server to your MCP client (role "support": every Zendesk tool but
delete_ticket; emails, phones, SSNs and card numbers in results are masked):

  "mcpServers": {
    "fortress": {
      "url": "${stack.edgeUrl}/v1/mcp",
      "headers": { "x-api-key": "${mcp.mcpKey}" }
    }
  }

  (Zendesk here is a local sandbox at ${mcp.zendeskUrl} speaking Zendesk's API.)

Logs: ${local.logs}. Press Ctrl-C to stop.`);
