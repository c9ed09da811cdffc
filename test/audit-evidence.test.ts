import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ExportFormat } from '@fortress/proto/audit/v1/audit_pb';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { AUDIT_BUCKET } from '@fortress/harness/stack/stack';
import pg from 'pg';
import {
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

/** Runs the verify command as an auditor would; its exit code and output. */
async function verifyCommand(
  stack: TestStack,
  orgId: string,
): Promise<{ code: number; out: string }> {
  const args = [
    '--import',
    'tsx',
    'services/audit/src/verify-cli.ts',
    '--database-url',
    stack.adminDatabaseUrl,
    '--org',
    orgId,
    '--s3-endpoint',
    stack.objectStore.url,
    '--s3-bucket',
    AUDIT_BUCKET,
    '--public-key',
    stack.auditVerifyKeyFile,
  ];
  const env = {
    PATH: process.env['PATH'] ?? '',
    AWS_ACCESS_KEY_ID: stack.objectStore.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: stack.objectStore.credentials.secretAccessKey,
  };
  try {
    const { stdout } = await promisify(execFile)(process.execPath, args, { env });
    return { code: 0, out: stdout };
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    return { code: e.code ?? -1, out: e.stdout ?? '' };
  }
}

describe('audit evidence through the whole stack: verify, export, retention, change log', () => {
  let stack: TestStack;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  let rows: number;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await stack.seed();
    for (const model of [ALLOWED_MODEL, DENIED_MODEL, ALLOWED_MODEL])
      await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey }, model });
    rows = (
      await eventually(async () => {
        // Everything the org will ever have here: three changes (the seed's role and PAT
        // credential, and the month's archive key the vault makes on the first archived
        // exchange — the credentials through the vault's outbox), three decisions and two
        // outcomes.
        const r = await stack.auditRows(org.orgId);
        const n = (kind: string) => r.filter((x) => x.kind === kind).length;
        return n('change') === 3 && n('decision') === 3 && n('outcome') === 2 ? r : undefined;
      }, 'three changes, three decisions and two outcomes')
    ).length;
  });

  it('verifies the org over RPC, from sequence 1, every record', async function () {
    this.timeout(30_000);
    const v = await stack.operator.audit.verify({ orgId: org.orgId });
    assert.deepEqual([v.ok, v.recordsChecked, v.firstSequence], [true, BigInt(rows), 1n]);
  });

  it('records a retention change in the change log, queryable on its own', async () => {
    const set = await stack.operator.audit.setRetention({
      orgId: org.orgId,
      tier: Tier.BANK,
      actorId: 'operator',
    });
    assert.equal(set.retention?.period, 'P1Y');
    const changes = await stack.operator.audit.queryChanges({
      orgId: org.orgId,
      entityType: 'retention',
    });
    assert.deepEqual(
      changes.records.map((r) => [r.action, r.resource]),
      [['retention.update', `retention:${org.orgId}`]],
    );
    rows += 1;
  });

  it('exports the org as CSV through the streaming RPC, one line per record', async () => {
    let csv = '';
    for await (const chunk of stack.operator.audit.export({
      orgId: org.orgId,
      format: ExportFormat.CSV,
    }))
      csv += Buffer.from(chunk.data).toString('utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 1 + rows);
    assert.ok(
      lines.slice(1).every((l) => !l.includes(org.orgKey)),
      'no credential in the export',
    );
  });

  it('passes the verify command, then catches a superuser edit with the triggers off', async function () {
    this.timeout(60_000);
    const clean = await verifyCommand(stack, org.orgId);
    assert.deepEqual([clean.code, /: ok — /.test(clean.out)], [0, true], clean.out);
    let badSeq = '';
    const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
    await admin.connect();
    try {
      const { rows: denied } = await admin.query<{ seq: string }>(
        "SELECT org_seq::text AS seq FROM audit.events WHERE org_id = $1 AND decision = 'deny'",
        [org.orgId],
      );
      badSeq = denied[0]?.seq ?? '';
      await admin.query('SET session_replication_role = replica');
      await admin.query(
        "UPDATE audit.events SET decision = 'allow' WHERE org_id = $1 AND decision = 'deny'",
        [org.orgId],
      );
    } finally {
      await admin.end();
    }
    const caught = await verifyCommand(stack, org.orgId);
    assert.equal(caught.code, 1, caught.out);
    assert.ok(
      caught.out.includes(`TAMPERED — first bad sequence ${badSeq} (hash_mismatch)`),
      caught.out,
    );
    const rpc = await stack.operator.audit.verify({ orgId: org.orgId });
    assert.deepEqual(
      [rpc.ok, rpc.firstBadSequence, rpc.reason],
      [false, BigInt(badSeq), 'hash_mismatch'],
    );
  });
});
