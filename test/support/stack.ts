import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { eventually } from '@fortress/harness/eventually';
import { startOtlpCollector, type OtlpCollector } from '@fortress/harness/stack/otlp-collector';
import { seedAdmin, seedOrg, type SeedOptions, type SeededOrg } from '@fortress/harness/stack/seed';
import { ARCHIVE_BUCKET, startStack, type Stack } from '@fortress/harness/stack/stack';
import { findRecord, type SealedRecord } from '../../services/edge/src/archive/archive-crypto.js';

/** The shared end-to-end stack, with a trace collector and helpers. */
export interface TestStack extends Stack {
  collector: OtlpCollector;
  /** Creates an org with a fresh id, a role, an upstream credential and an org key. */
  seed(options?: Partial<SeedOptions>): Promise<SeededOrg>;
  /** Rows of the audit log of one org, read as the database superuser. */
  auditRows(orgId: string): Promise<AuditRowView[]>;
  /** Every org key issued by `seed` in this run (for canary scans). */
  issuedOrgKeys: string[];
  /** Other secrets tests were handed (admin session tokens, exchanged tokens): canaries too. */
  issuedSecrets: string[];
  /** Which of these request ids have an allow decision in the audit log (any org). */
  allowedRequestIds(requestIds: string[]): Promise<Set<string>>;
}

/** The audit columns tests look at. */
export interface AuditRowView {
  kind: string;
  decision: string | null;
  request_id: string;
  action: string;
  resource: string;
  status_code: number | null;
  reasons: Array<{ code: string; ruleId: string }>;
  trace_id: string;
  event: unknown;
}

/** A model the sandbox knows and test orgs are allowed to use. */
export const ALLOWED_MODEL = 'claude-haiku-4-5-20251001';
/** A model the sandbox knows and test orgs are not allowed to use. */
export const DENIED_MODEL = 'claude-opus-4-1-20250805';

/** The edge's body limit in tests (small, so the oversized-body test stays cheap). */
export const MAX_BODY_BYTES = 1024 * 1024;

let pending: Promise<TestStack> | undefined;
let dataDir: string | undefined;

async function start(): Promise<TestStack> {
  dataDir = mkdtempSync(join(tmpdir(), 'fortress-e2e-'));
  const collector = await startOtlpCollector();
  const stack = await startStack({
    dataDir,
    fast: true,
    otlpTracesUrl: collector.url,
    serviceEnv: {
      // Fail-closed tests wait for these; keep them short.
      edge: {
        FORTRESS_HOP_TIMEOUT_MS: '1500',
        FORTRESS_AUDIT_ACK_TIMEOUT_MS: '1500',
        FORTRESS_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
        // Small pages, so tools/list paging is exercised with a handful of tools.
        FORTRESS_MCP_PAGE_SIZE: '2',
      },
      // Test orgs are new users sending bursts: anomaly detection would flag them (and add
      // rows and notifications tests count) whenever its timer fired. Its own tests run it.
      audit: { FORTRESS_AUDIT_ANOMALY_INTERVAL_MS: String(24 * 3600_000) },
    },
  });
  const admin = new pg.Pool({ connectionString: stack.adminDatabaseUrl, max: 2 });
  // An idle connection dropped by a PostgreSQL restart must not crash the test process.
  admin.on('error', () => undefined);
  const stopStack = stack.stop.bind(stack);
  const issuedOrgKeys: string[] = [];
  const issuedSecrets: string[] = [];
  return Object.assign(stack, {
    collector,
    issuedOrgKeys,
    issuedSecrets,
    seed: async (options: Partial<SeedOptions> = {}) => {
      const org = await seedOrg(stack.operator, {
        orgId: `org_${randomBytes(6).toString('hex')}`,
        name: 'Test Org',
        patKeyId: `pat_${randomBytes(6).toString('hex')}`,
        anthropicKey: stack.sandboxAnthropicKey,
        allowedModels: [ALLOWED_MODEL],
        ...options,
      });
      issuedOrgKeys.push(org.orgKey);
      return org;
    },
    auditRows: async (orgId: string) =>
      (
        await admin.query<AuditRowView>(
          `SELECT kind, decision, request_id, action, resource, status_code, reasons, trace_id, event
           FROM audit.events WHERE org_id = $1 ORDER BY seq`,
          [orgId],
        )
      ).rows,
    allowedRequestIds: async (requestIds: string[]) =>
      new Set(
        (
          await admin.query<{ request_id: string }>(
            `SELECT request_id FROM audit.events WHERE kind = 'decision' AND decision = 'allow' AND request_id = ANY($1)`,
            [requestIds],
          )
        ).rows.map((r) => r.request_id),
      ),
    stop: async () => {
      await admin.end();
      await stopStack();
      await collector.close();
    },
  });
}

/** The end-to-end stack, started once per test run and stopped after the last test. */
export function useStack(): Promise<TestStack> {
  pending ??= start();
  return pending;
}

after(async function stopStack() {
  this.timeout(60_000);
  if (!pending) return;
  const stack = await pending.catch(() => undefined);
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

export { eventually };

/** An S3 client of the stack's object store (s3rver: path-style, checksums only when required). */
/**
 * A request's sealed archive record as stored: the outcome in the audit log names its segment,
 * which is read from the object store (waits until both are there).
 */
export async function archivedRecord(
  stack: TestStack,
  s3: S3Client,
  orgId: string,
  requestId: string,
): Promise<{ objectKey: string; segment: string; sealed: SealedRecord }> {
  return eventually(async () => {
    const outcome = (await stack.auditRows(orgId)).find(
      (r) => r.kind === 'outcome' && r.request_id === requestId,
    );
    const objectKey = (outcome?.event as { outcome?: { archiveObject?: string } } | undefined)
      ?.outcome?.archiveObject;
    if (!objectKey) return undefined;
    try {
      const r = await s3.send(new GetObjectCommand({ Bucket: ARCHIVE_BUCKET, Key: objectKey }));
      const segment = (await r.Body?.transformToString('utf8')) ?? '';
      const sealed = findRecord(segment, requestId);
      return sealed && { objectKey, segment, sealed };
    } catch {
      return undefined; // the segment is not uploaded yet
    }
  }, `the archived record of ${requestId}`);
}

export function objectStoreClient(stack: TestStack): S3Client {
  return new S3Client({
    region: stack.objectStore.region,
    endpoint: stack.objectStore.url,
    forcePathStyle: true,
    credentials: stack.objectStore.credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** A raw POST /v1/messages to the edge. */
export async function postMessages(
  edgeUrl: string,
  init: { headers?: Record<string, string>; body?: string | Buffer; model?: string },
): Promise<{
  status: number;
  headers: Headers;
  json: { type?: string; error?: { type: string; message: string } } & Record<string, unknown>;
}> {
  const body =
    init.body ??
    JSON.stringify({
      model: init.model ?? ALLOWED_MODEL,
      max_tokens: 32,
      messages: [{ role: 'user', content: 'hello' }],
    });
  const res = await fetch(`${edgeUrl}/v1/messages`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      ...init.headers,
    },
    body,
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as never) : {},
  };
}

/** The password the tests give every admin they create (a canary of the secret scans). */
export const ADMIN_PASSWORD = 'correct horse battery staple';

/**
 * Creates an admin with one role in an org (through the operator, as `npm start` does) and
 * signs in through the edge's admin API; returns the access token. Tokens are canaries.
 */
export async function adminSession(
  stack: TestStack,
  orgId: string,
  role: string,
  email = `${role}@example.com`,
): Promise<string> {
  await seedAdmin(stack.operator, { orgId, email, password: ADMIN_PASSWORD, roles: [role] });
  const r = await fetch(`${stack.edgeUrl}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ org_id: orgId, email, password: ADMIN_PASSWORD }),
  });
  const j = (await r.json()) as { access_token?: string; refresh_token?: string };
  if (r.status !== 200 || !j.access_token) throw new Error(`login of ${email} failed: ${r.status}`);
  stack.issuedSecrets.push(j.access_token, j.refresh_token ?? '');
  return j.access_token;
}
