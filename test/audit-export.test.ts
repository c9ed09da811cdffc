import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import { AUDIT_BUCKET } from '@fortress/harness/stack/stack';
import { adminRest, assertProblem, type AdminReply } from './support/admin-rest.js';
import {
  adminSession,
  eventually,
  objectStoreClient,
  useStack,
  type TestStack,
} from './support/stack.js';

/** One segment object of the org's export, by the sequences its key names. */
interface Segment {
  key: string;
  first: number;
  last: number;
}

interface Settings {
  enabled: boolean;
  is_default: boolean;
  pending_segments: number;
  last_error: string;
}

const settingsOf = (r: AdminReply) => r.json['settings'] as Settings;

describe('audit export to the object store, and its disabling as an approvable change (issue 7)', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let orgId: string;
  let db: pg.Pool;
  let s3: S3Client;
  /** An audit replica that checkpoints (and so exports) within a second, not a minute. */
  let quick: ServiceProcess | undefined;
  const tokens: Record<string, string> = {};
  const rest = adminRest(() => stack.edgeUrl);
  const as =
    (who: string) =>
    (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
      rest(method, path, {
        token: tokens[who] ?? '',
        ...(body === undefined ? {} : { body }),
        ...(headers ? { headers } : {}),
      });

  before(async () => {
    stack = await useStack();
    orgId = (await stack.seed()).orgId;
    for (const [who, role] of [
      ['owner', 'owner'],
      ['alice', 'admin'],
      ['bob', 'admin'],
      ['auditor', 'auditor'],
      ['viewer', 'viewer'],
    ] as const)
      tokens[who] = await adminSession(stack, orgId, role, `export-${who}@example.com`);
    db = new pg.Pool({ connectionString: stack.adminDatabaseUrl, max: 2 });
    s3 = objectStoreClient(stack);
    quick = await stack.startReplica('audit', {
      FORTRESS_AUDIT_CHECKPOINT_INTERVAL_MS: '300',
      FORTRESS_AUDIT_EXPORT_RETRY_MS: '500',
    });
  });
  after(async () => {
    await quick?.stop();
    s3?.destroy();
    await db?.end();
  });

  const segments = async (): Promise<Segment[]> => {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: AUDIT_BUCKET, Prefix: `audit-export/${orgId}/` }),
    );
    return (page.Contents ?? [])
      .map((c) => c.Key ?? '')
      .sort()
      .map((key) => {
        const [first, last] = (/(\d+)-(\d+)\.jsonl\.gz$/.exec(key) ?? []).slice(1).map(Number);
        return { key, first: first ?? 0, last: last ?? 0 };
      });
  };
  const lines = async (key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: AUDIT_BUCKET, Key: key }));
    const text = gunzipSync(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toString(
      'utf8',
    );
    return text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as { sequence: string; orgId: string; action: string });
  };
  /** The chain position of the org's latest change to its export setting. */
  const lastExportChange = async () => {
    const { rows } = await db.query<{ seq: string }>(
      `SELECT org_seq::text AS seq FROM audit.events
        WHERE org_id = $1 AND resource = $2 ORDER BY org_seq DESC LIMIT 1`,
      [orgId, `audit_export:${orgId}`],
    );
    return Number(rows[0]?.seq ?? 0);
  };
  /** Waits until a periodic checkpoint covers `seq`; the first such checkpoint's sequence. */
  const sealed = (seq: number) =>
    eventually(async () => {
      const { rows } = await db.query<{ seq: string | null }>(
        `SELECT min(seq)::text AS seq FROM audit.checkpoints
          WHERE org_id = $1 AND kind = 'periodic' AND seq >= $2`,
        [orgId, seq],
      );
      return rows[0]?.seq ? Number(rows[0].seq) : undefined;
    }, `a checkpoint at or after ${seq}`);
  /** Records some admin traffic (each call is an audited decision) and waits until it is sealed. */
  const trafficSealed = async () => {
    for (let i = 0; i < 3; i++) await as('auditor')('GET', '/audit/export-settings');
    const head = await eventually(async () => {
      const { rows } = await db.query<{ seq: string }>(
        'SELECT seq::text FROM audit.chain_heads WHERE org_id = $1',
        [orgId],
      );
      return rows[0] ? Number(rows[0].seq) : undefined;
    }, 'the chain head');
    return sealed(head);
  };
  /** Waits until the export owes nothing. */
  const exportedAll = () =>
    eventually(
      async () => {
        const s = settingsOf(await as('auditor')('GET', '/audit/export-settings'));
        return s.pending_segments === 0 ? s : undefined;
      },
      'the export to catch up',
      30_000,
    );

  it('is on by default and writes the org’s records, checkpoint by checkpoint, readable as JSON lines', async () => {
    const got = await as('auditor')('GET', '/audit/export-settings');
    assert.equal(got.status, 200, got.text);
    assert.deepEqual(settingsOf(got), {
      org_id: orgId,
      enabled: true,
      is_default: true,
      pending_segments: 0,
      last_error: '',
    });
    assertProblem(await as('viewer')('GET', '/audit/export-settings'), 403, 'not_permitted');
    const upTo = await trafficSealed();
    await exportedAll();
    const segs = await segments();
    assert.equal(segs[0]?.first, 1, 'from the first record');
    for (let i = 1; i < segs.length; i++)
      assert.equal(segs[i]?.first, (segs[i - 1]?.last ?? 0) + 1, 'no gap while export is on');
    assert.ok((segs.at(-1)?.last ?? 0) >= upTo);
    const last = segs.at(-1) as Segment;
    const records = await lines(last.key);
    assert.deepEqual(
      records.map((r) => Number(r.sequence)),
      Array.from({ length: last.last - last.first + 1 }, (_, i) => last.first + i),
    );
    assert.ok(records.every((r) => r.orgId === orgId));
  });

  it('refuses malformed settings as problem+json, and any change by an auditor', async () => {
    const bad = [
      { name: 'no field', body: {}, field: 'enabled' },
      { name: 'a string', body: { enabled: 'false' }, field: 'enabled' },
      { name: 'an unknown field', body: { enabled: false, bucket: 'elsewhere' }, field: 'bucket' },
      { name: 'an array', body: [false], field: undefined },
    ];
    for (const c of bad) {
      const r = await as('alice')('PUT', '/audit/export-settings', c.body);
      assertProblem(r, 400, 'invalid_request');
      assert.equal(r.json['field'], c.field, c.name);
    }
    assertProblem(
      await as('auditor')('PUT', '/audit/export-settings', { enabled: false }),
      403,
      'not_permitted',
    );
    assert.equal(settingsOf(await as('auditor')('GET', '/audit/export-settings')).enabled, true);
  });

  it('turns export off and on at once where it is not critical: change-logged, idempotent', async () => {
    const key = { 'idempotency-key': `export-off-${orgId}` };
    const off = await as('alice')('PUT', '/audit/export-settings', { enabled: false }, key);
    assert.equal(off.status, 200, off.text);
    assert.deepEqual([settingsOf(off).enabled, settingsOf(off).is_default], [false, false]);
    const again = await as('alice')('PUT', '/audit/export-settings', { enabled: false }, key);
    assert.equal(again.headers.get('idempotent-replayed'), 'true');
    assert.equal(again.text, off.text);
    const on = await as('alice')('PUT', '/audit/export-settings', { enabled: true });
    assert.equal(settingsOf(on).enabled, true, on.text);

    const changes = await as('auditor')('GET', '/changes?entity_type=audit_export');
    type Change = {
      action: string;
      event: {
        change: { before: { enabled: boolean }; after: { enabled: boolean }; approved_by?: string };
      };
    };
    const records = changes.json['records'] as Change[];
    assert.equal(records.length, 2, 'one per change; the replay changed nothing');
    assert.deepEqual(
      records.map((r) => [
        r.action,
        r.event.change.before.enabled,
        r.event.change.after.enabled,
        r.event.change.approved_by,
      ]),
      [
        ['audit_export.update', false, true, undefined],
        ['audit_export.update', true, false, undefined],
      ],
    );
  });

  it('parks turning export off when the org marks it critical; a second admin’s approval stops the export; turning it on runs at once', async () => {
    const policy = await as('owner')('PUT', '/approval-policy', {
      critical: ['audit_export.disable'],
    });
    assert.equal(policy.status, 200, policy.text);
    const before = await trafficSealed();
    await exportedAll();

    const parked = await as('alice')('PUT', '/audit/export-settings', { enabled: false });
    assert.equal(parked.status, 202, parked.text);
    const approval = parked.json['approval'] as { id: string; kind: string; status: string };
    assert.deepEqual([approval.kind, approval.status], ['audit_export.disable', 'pending']);
    assert.equal(settingsOf(await as('auditor')('GET', '/audit/export-settings')).enabled, true);
    assertProblem(
      await as('alice')('PUT', '/audit/export-settings', { enabled: 'off' }),
      400,
      'invalid_request',
    );
    assertProblem(
      await as('alice')('POST', `/approvals/${approval.id}/approve`),
      403,
      'self_approval',
    );
    assert.ok(
      (await segments()).some((s) => s.last >= before),
      'still exporting meanwhile',
    );

    const approved = await as('bob')('POST', `/approvals/${approval.id}/approve`);
    assert.equal(approved.status, 200, approved.text);
    const done = approved.json['approval'] as {
      status: string;
      decided_by: { subject_id: string };
      requested_by: { subject_id: string };
      result: { status: number; body: { settings: Settings } };
    };
    assert.equal(done.status, 'approved');
    assert.equal(done.result.body.settings.enabled, false);
    const changes = await as('auditor')('GET', '/changes?entity_type=audit_export&page_size=1');
    const latest = (
      changes.json['records'] as Array<{
        event: { change: { actor: { subject_id: string }; approved_by: string } };
      }>
    )[0];
    assert.equal(latest?.event.change.actor.subject_id, done.requested_by.subject_id);
    assert.equal(latest?.event.change.approved_by, done.decided_by.subject_id);

    // The span holding the switch-off is exported whole, ending the export where it says so.
    const switchedOff = await lastExportChange();
    const lastExported = await sealed(switchedOff);
    await trafficSealed();
    await trafficSealed();
    await exportedAll();
    const afterOff = await segments();
    const closing = afterOff.find((s) => s.first <= switchedOff && switchedOff <= s.last);
    assert.ok(closing, 'the segment with the switch-off');
    assert.equal(closing.last, lastExported);
    const offLine = (await lines(closing.key)).find((r) => Number(r.sequence) === switchedOff);
    assert.equal(offLine?.action, 'audit_export.update');
    assert.deepEqual(
      afterOff.filter((s) => s.last > lastExported),
      [],
      'nothing exported after it',
    );

    // Turning it on is never parked, and the export resumes; the gap shows in the sequences.
    const on = await as('alice')('PUT', '/audit/export-settings', { enabled: true });
    assert.equal(on.status, 200, on.text);
    const switchedOn = await lastExportChange();
    await sealed(switchedOn);
    await trafficSealed();
    await exportedAll();
    const resumed = (await segments()).filter((s) => s.last > lastExported);
    assert.ok(resumed.length > 0, 'exporting again');
    assert.ok((resumed[0]?.first ?? 0) > lastExported + 1, 'a gap while it was off');
    assert.ok(
      resumed.some((s) => s.first <= switchedOn && switchedOn <= s.last),
      'the switch-on is exported',
    );
  });
});
