/**
 * The vault (part of `npm run bench`): ResolveCredential p50/p99 and resolves/s over gRPC, as the
 * edge calls it (mTLS, decision token verified), with (1) a warm data-key cache, (2) a cold one
 * (every resolve unwraps the org data key through KMS: a vault replica whose cache serves a key
 * once), and (3) Zero Trust (a live session's key; each resolve does an X25519 agreement), next
 * to (4) an empty gRPC round trip to the same vault (CloseSession of no session). Latency at
 * concurrency 1; throughput at concurrency 1 and 8. Prints a table and writes JSON under
 * bench/results/. Not a test: no thresholds.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KMSClient } from '@aws-sdk/client-kms';
import { customerKeyFor } from '@fortress/harness/stack/customer-kms';
import { PrincipalKind, Tier } from '@fortress/proto/common/v1/common_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import { operatorClients, type OperatorClients } from '@fortress/harness/stack/operator-clients';
import { CUSTOMER_KMS_CREDENTIALS, startStack } from '@fortress/harness/stack/stack';
import { importJWK, SignJWT, type JWK } from 'jose';
import { measure, summarize } from './lib/stats.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MS = Number(process.env['BENCH_DURATION_MS'] ?? 5000);
const CONCURRENCY = 8;
const SECRET = `sk-ant-api03-bench-${randomBytes(16).toString('hex')}`;

/** Runs `fn` from `concurrency` callers at once for `ms`; the summary of all latencies. */
async function measureConcurrent(fn: () => Promise<unknown>, ms: number, concurrency: number) {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        await fn();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return summarize(latencies, (performance.now() - start) / 1000);
}

/** Total time and count of one RPC method as a service measured it (its ops port's histogram). */
async function serverTime(
  opsPort: number,
  method: string,
): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
  const value = (suffix: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`fortress_rpc_server_duration_${suffix}{method="${method}"`))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { sum: value('sum'), count: value('count') };
}

const dataDir = mkdtempSync(join(tmpdir(), 'fortress-bench-vault-'));
const stack = await startStack({ dataDir, fast: true, logLevel: 'warn' });
try {
  const jwk = JSON.parse(
    readFileSync(join(dataDir, 'keys', 'decision-signing.jwk'), 'utf8'),
  ) as JWK;
  const signingKey = await importJWK(jwk, 'EdDSA');
  /** A token as policy signs it (the vault verifies it on every call). */
  const policyToken = (claims: Record<string, string>, subject = 'usr_bench') =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid ?? '' })
      .setIssuer('fortress-policy')
      .setAudience('vault')
      .setSubject(subject)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(signingKey);
  const put = (orgId: string) =>
    stack.operator.vaultAdmin.putCredential({
      orgId,
      id: 'pat_bench',
      label: 'bench',
      kind: CredentialKind.ANTHROPIC_KEY,
      material: { secret: Buffer.from(SECRET) },
      actorId: 'usr_bench',
    });
  const resolver = async (clients: OperatorClients, orgId: string, sessionId = '') => {
    const requestId = 'req_bench';
    const decisionToken = await policyToken({
      org: orgId,
      cred: 'pat_bench',
      rid: requestId,
      act: 'pat:messages.create',
    });
    return async () => {
      const r = await clients.vault.resolveCredential({
        orgId,
        credentialRef: 'pat_bench',
        requestId,
        decisionToken,
        sessionId,
      });
      if (r.material?.secret.length !== SECRET.length) throw new Error('wrong secret');
    };
  };

  const edge = operatorClients(stack.tlsDir, stack.urls, 'edge');
  const soho = 'org_benchsoho';
  await put(soho);

  // Cold: a replica whose data-key cache serves a key once, so every resolve asks KMS.
  const cold = await stack.startReplica('vault', { FORTRESS_DATA_KEY_MAX_USES: '1' });
  const coldEdge = operatorClients(
    stack.tlsDir,
    { ...stack.urls, vault: `https://127.0.0.1:${cold.ports.grpcPort ?? 0}` },
    'edge',
  );

  // Zero Trust: a key in the customer's KMS account, granted to the vault, and a session.
  const zt = 'org_benchzt';
  const customer = new KMSClient({
    region: stack.customerKms.region,
    endpoint: stack.customerKms.url,
    credentials: CUSTOMER_KMS_CREDENTIALS,
  });
  const { keyArn } = await customerKeyFor(customer, zt, stack.vaultKmsPrincipal);
  customer.destroy();
  await stack.operator.vaultAdmin.setKeyConfig({
    config: {
      orgId: zt,
      tier: Tier.ZERO_TRUST,
      kmsKeyId: keyArn,
      kmsEndpoint: stack.customerKms.url,
    },
    actorId: 'usr_bench',
  });
  await put(zt);
  const session = await edge.vault.openSession({
    principal: {
      orgId: zt,
      tier: Tier.ZERO_TRUST,
      kind: PrincipalKind.USER,
      subjectId: 'usr_bench',
      deviceId: 'dev_bench',
    },
    requestId: 'req_session',
    decisionToken: await policyToken({
      org: zt,
      rid: 'req_session',
      act: 'vault:session.open',
      cred: 'vault:session',
      dev: 'dev_bench',
      pst: 'compliant',
    }),
  });

  const RESOLVE = 'fortress.vault.v1.VaultService/ResolveCredential';
  const CLOSE = 'fortress.vault.v1.VaultService/CloseSession';
  const main = stack.services.vault.ports.opsPort;
  const scenarios: Array<[string, () => Promise<unknown>, number, string]> = [
    ['resolve, warm data-key cache', await resolver(edge, soho), main, RESOLVE],
    [
      'resolve, cold cache (KMS unwrap)',
      await resolver(coldEdge, soho),
      cold.ports.opsPort,
      RESOLVE,
    ],
    ['resolve, Zero Trust session key', await resolver(edge, zt, session.sessionId), main, RESOLVE],
    [
      'empty gRPC round trip',
      () => edge.vault.closeSession({ orgId: soho, sessionId: 'ses_none' }),
      main,
      CLOSE,
    ],
  ];
  const rows = [];
  for (const [what, call, opsPort, method] of scenarios) {
    // Counted, not thrown: Node 24.20+ intermittently reports "Premature close" on HTTP/2
    // responses read by async iteration (nodejs/node#65677), which connect-node does.
    let errors = 0;
    const fn = () => call().catch(() => void (errors += 1));
    const before = await serverTime(opsPort, method);
    const serial = await measure(fn, MS);
    const after = await serverTime(opsPort, method);
    const parallel = await measureConcurrent(fn, MS, CONCURRENCY);
    rows.push({
      what,
      'p50 ms': +serial.p50.toFixed(3),
      'p99 ms': +serial.p99.toFixed(3),
      // Mean time inside the vault (its own histogram, warm-up included); the rest is transport.
      'server mean ms': +(
        (after.sum - before.sum) /
        Math.max(1, after.count - before.count)
      ).toFixed(3),
      'per s (c=1)': Math.round(serial.perSecond),
      [`per s (c=${CONCURRENCY})`]: Math.round(parallel.perSecond),
      [`p99 ms (c=${CONCURRENCY})`]: +parallel.p99.toFixed(3),
      errors,
    });
  }
  await cold.stop();
  console.log(
    `\nVault ResolveCredential over gRPC, ${MS / 1000}s per measurement, Node ${process.version}`,
  );
  console.table(rows);
  mkdirSync(join(HERE, 'results'), { recursive: true });
  const at = new Date().toISOString();
  writeFileSync(
    join(HERE, 'results', `vault-${at.replace(/[:.]/g, '-')}.json`),
    JSON.stringify({ at, durationMs: MS, concurrency: CONCURRENCY, rows }, null, 2),
  );
} finally {
  await stack.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
