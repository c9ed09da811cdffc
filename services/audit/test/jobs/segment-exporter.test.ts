import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createCheckpointRepo } from '../../src/adapters/pg/checkpoint-repo.js';
import { createAuditStore } from '../../src/adapters/pg/audit-store.js';
import { createS3Client } from '../../src/adapters/s3/s3-client.js';
import { createSegmentStore } from '../../src/adapters/s3/segment-store.js';
import { signCheckpoint } from '../../src/domain/checkpoint.js';
import { jsonLine } from '../../src/domain/export-format.js';
import { toRecord } from '../../src/rpc/audit-record.js';
import { changeRow } from '../../src/rpc/change-row.js';
import {
  auditRow,
  BUCKET,
  startAuditFixture,
  type AuditFixture,
} from '../support/audit-fixture.js';

const pad = (n: number) => String(n).padStart(20, '0');
const keyOf = (org: string, first: number, last: number) =>
  `audit-export/${org}/${pad(first)}-${pad(last)}.jsonl.gz`;

describe('audit export segments', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  let s3: S3Client;
  before(async () => {
    fx = await startAuditFixture();
    s3 = createS3Client({
      endpoint: fx.objectStore.url,
      region: fx.objectStore.region,
      bucket: BUCKET,
      credentials: fx.objectStore.credentials,
    });
  });
  after(async () => {
    s3?.destroy();
    await fx?.stop();
  });

  let n = 0;
  const write = (org: string, count: number) =>
    fx.writer.append(
      org,
      Array.from({ length: count }, () => auditRow(org, ++n)),
    );
  const setExport = (org: string, enabled: boolean) =>
    fx.exportSettings.set(org, enabled, (before, after) =>
      changeRow(
        org,
        'usr_admin',
        { type: 'audit_export', id: org, operation: 'update' },
        { enabled: before.enabled },
        { enabled: after.enabled },
      ),
    );
  const keys = async (org: string) => {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `audit-export/${org}/` }),
    );
    return (page.Contents ?? []).map((c) => c.Key ?? '').sort();
  };
  const read = async (key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const body = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
    return { body, metadata: got.Metadata ?? {}, etag: got.ETag };
  };
  const owed = async (org: string) =>
    (
      await fx.pg.admin.query<{ first_seq: string }>(
        'SELECT first_seq::text FROM audit.export_segments WHERE org_id = $1 ORDER BY first_seq',
        [org],
      )
    ).rows.map((r) => r.first_seq);
  /** The JSON-lines export of the org's records first..last, as the Export RPC renders them. */
  const exportedLines = async (org: string, first: number, last: number) =>
    (
      await createAuditStore(fx.pool).chronological({
        orgId: org,
        afterOrgSeq: String(first - 1),
        limit: last - first + 1,
      })
    )
      .map((r) => jsonLine(toRecord(r)))
      .join('');
  const chainAt = async (org: string, seq: number) => {
    const { rows } = await fx.pg.admin.query<{ hash: Buffer; head_hash: Buffer | null }>(
      `SELECT e.hash, c.head_hash FROM audit.events e
         LEFT JOIN audit.checkpoints c ON c.org_id = e.org_id AND c.seq = e.org_seq AND c.kind = 'periodic'
        WHERE e.org_id = $1 AND e.org_seq = $2`,
      [org, seq],
    );
    return rows[0];
  };

  it('writes each checkpointed span of an org as a segment that matches its records and the chain', async () => {
    const org = 'org_exp_on';
    await write(org, 7);
    await fx.checkpoint(org);
    await write(org, 5);
    await fx.checkpoint(org);
    assert.deepEqual(await owed(org), ['1', '8'], 'queued with the checkpoints');
    await fx.exportOwed(org);
    assert.deepEqual(await owed(org), []);
    assert.deepEqual(await keys(org), [keyOf(org, 1, 7), keyOf(org, 8, 12)]);

    for (const [first, last] of [
      [1, 7],
      [8, 12],
    ] as const) {
      const { body, metadata } = await read(keyOf(org, first, last));
      assert.equal(gunzipSync(body).toString('utf8'), await exportedLines(org, first, last));
      const chain = await chainAt(org, last);
      assert.ok(chain?.head_hash, 'a periodic checkpoint sits at the segment’s last record');
      assert.equal(metadata['fortress-last-hash'], chain.hash.toString('hex'));
      assert.equal(metadata['fortress-last-hash'], chain.head_hash.toString('hex'));
      assert.equal(metadata['fortress-first-seq'], String(first));
      assert.equal(metadata['fortress-last-seq'], String(last));
      assert.equal(metadata['fortress-checkpoint-seq'], String(last));
      // The signed copy it names is there to check the hash against.
      const copy = await read(metadata['fortress-checkpoint-key'] ?? '');
      const statement = JSON.parse(
        (JSON.parse(copy.body.toString('utf8')) as { statement: string }).statement,
      ) as { head_hash: string; seq: string };
      assert.deepEqual(
        { hash: statement.head_hash, seq: statement.seq },
        { hash: metadata['fortress-last-hash'], seq: String(last) },
      );
    }
    assert.equal((await fx.verify(org)).ok, true);
  });

  it('writes no segment of a span wholly inside a period with export off, and resumes when it is on', async () => {
    const org = 'org_exp_off';
    await write(org, 3);
    await setExport(org, false); // record 4: the change that turns it off
    await write(org, 2);
    await fx.checkpoint(org); // 1..6: on until 4, so exported whole
    await write(org, 5);
    await fx.checkpoint(org); // 7..11: off throughout
    await setExport(org, true); // record 12
    await write(org, 2);
    await fx.checkpoint(org); // 12..14
    await fx.exportOwed(org);
    assert.deepEqual(await keys(org), [keyOf(org, 1, 6), keyOf(org, 12, 14)]);
    const first = gunzipSync((await read(keyOf(org, 1, 6))).body).toString('utf8');
    assert.match(
      first.trim().split('\n')[3] ?? '',
      /"action":"audit_export\.update"/,
      'the switch-off itself is exported: the gap is announced where it starts',
    );
    // A setting written again unchanged does not reopen a span.
    await setExport(org, false); // 15
    await fx.checkpoint(org); // 15: flipped inside → exported
    await setExport(org, false); // 16
    await write(org, 1);
    await fx.checkpoint(org); // 16..17: off throughout
    await fx.exportOwed(org);
    assert.deepEqual(await keys(org), [keyOf(org, 1, 6), keyOf(org, 12, 14), keyOf(org, 15, 15)]);
  });

  it('keeps a segment owed while the object store fails, checkpoints regardless, and writes it once the store is back', async () => {
    const org = 'org_exp_retry';
    await write(org, 4);
    await fx.checkpoint(org);
    // A real failure: the store answers, but the bucket does not exist.
    const wrong = createSegmentStore({
      endpoint: fx.objectStore.url,
      region: fx.objectStore.region,
      bucket: 'fortress-no-such-bucket',
      credentials: fx.objectStore.credentials,
      encryption: { mode: 'AES256' },
    });
    try {
      await fx.exportOwed(org, wrong);
      await fx.exportOwed(org, wrong);
    } finally {
      wrong.close();
    }
    const { rows } = await fx.pg.admin.query<{ seq: string }>(
      "SELECT seq::text FROM audit.checkpoints WHERE org_id = $1 AND kind = 'periodic'",
      [org],
    );
    assert.deepEqual(
      rows.map((r) => r.seq),
      ['4'],
      'the checkpoint stands without its export',
    );
    assert.deepEqual(await fx.segments.backlog(org), { pending: 1, lastError: 'no_such_bucket' });
    const attempts = await fx.pg.admin.query<{ attempts: number }>(
      'SELECT attempts FROM audit.export_segments WHERE org_id = $1',
      [org],
    );
    assert.equal(attempts.rows[0]?.attempts, 2);
    assert.deepEqual(await keys(org), []);

    await write(org, 2);
    await fx.checkpoint(org);
    await fx.exportOwed(org);
    assert.deepEqual(await keys(org), [keyOf(org, 1, 4), keyOf(org, 5, 6)], 'nothing skipped');
    assert.deepEqual(await fx.segments.backlog(org), { pending: 0, lastError: '' });
  });

  it('writes the same bytes when a segment is written again', async () => {
    const org = 'org_exp_twice';
    await write(org, 6);
    await fx.checkpoint(org);
    await fx.exportOwed(org);
    const once = await read(keyOf(org, 1, 6));
    // As if the write had succeeded but its removal from the outbox was lost (a crash).
    await fx.pg.admin.query(
      `INSERT INTO audit.export_segments (org_id, first_seq, last_seq, checkpoint_seq)
       VALUES ($1, 1, 6, 6)`,
      [org],
    );
    await fx.exportOwed(org);
    const twice = await read(keyOf(org, 1, 6));
    assert.deepEqual(twice.body, once.body);
    assert.equal(twice.etag, once.etag);
    assert.deepEqual(twice.metadata, once.metadata);
    assert.deepEqual(await owed(org), []);
  });

  it('slices a long span into segments of at most N records', async () => {
    const org = 'org_exp_long';
    await write(org, 10);
    await createCheckpointRepo(fx.pool, { segmentMax: 4 }).checkpoint(
      org,
      (o, point, at) => signCheckpoint(fx.key, 'periodic', o, point, at),
      (cp) => fx.copies.put(cp),
    );
    await fx.exportOwed(org);
    assert.deepEqual(await keys(org), [keyOf(org, 1, 4), keyOf(org, 5, 8), keyOf(org, 9, 10)]);
    for (const [first, last] of [
      [1, 4],
      [5, 8],
      [9, 10],
    ] as const) {
      const { body, metadata } = await read(keyOf(org, first, last));
      assert.equal(gunzipSync(body).toString('utf8'), await exportedLines(org, first, last));
      assert.equal(
        metadata['fortress-last-hash'],
        (await chainAt(org, last))?.hash.toString('hex'),
      );
      assert.equal(metadata['fortress-checkpoint-seq'], '10');
    }
  });

  it('asks for server-side encryption and sends the checksum of the exact bytes', async () => {
    const sent: Array<Record<string, string>> = [];
    const spy = (mode: 'AES256' | 'none') => {
      const client = createS3Client({
        endpoint: fx.objectStore.url,
        region: fx.objectStore.region,
        bucket: BUCKET,
        credentials: fx.objectStore.credentials,
      });
      client.middlewareStack.add(
        (next) => (args) => {
          sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
          return next(args);
        },
        { step: 'finalizeRequest' },
      );
      return createSegmentStore(
        {
          endpoint: fx.objectStore.url,
          region: fx.objectStore.region,
          bucket: BUCKET,
          encryption: { mode },
        },
        client,
      );
    };
    const org = 'org_exp_sse';
    for (const mode of ['AES256', 'none'] as const) {
      await write(org, 2);
      await fx.checkpoint(org);
      const store = spy(mode);
      try {
        await fx.exportOwed(org, store);
      } finally {
        store.close();
      }
    }
    assert.equal(sent.length, 2);
    assert.equal(sent[0]?.['x-amz-server-side-encryption'], 'AES256');
    assert.equal(sent[1]?.['x-amz-server-side-encryption'], undefined);
    const { body } = await read(keyOf(org, 1, 2));
    assert.equal(
      sent[0]?.['x-amz-checksum-sha256'],
      createHash('sha256').update(body).digest('base64'),
      'stored intact, and the store could check it',
    );
  });
});
