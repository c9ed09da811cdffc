import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { createLogger } from '@fortress/kit/log';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import type { AppendResult } from '../../src/adapters/pg/chain-writer.js';
import type { AuditRow } from '../../src/domain/audit-row.js';
import { GENESIS_HASH } from '../../src/domain/chain.js';
import { createBatchIngest, type IngestMessage } from '../../src/ingest/batch-ingest.js';

/** A message that remembers how it was settled. */
function message(data: Uint8Array, subject = 'audit.x.decision') {
  const m = { subject, data, settled: [] as string[] };
  const msg: IngestMessage & { settled: string[] } = Object.assign(m, {
    ack: () => void m.settled.push('ack'),
    nak: () => void m.settled.push('nak'),
  });
  return msg;
}
const event = (orgId: string, requestId = 'req_1') =>
  toBinary(
    EventEnvelopeSchema,
    create(EventEnvelopeSchema, {
      eventId: randomUUID(),
      orgId,
      payload: { case: 'decision', value: { requestId } },
    }),
  );
const pgError = (code: string, constraint?: string) =>
  Object.assign(new Error(`pg ${code}`), { code, constraint });
const ok = (rows: AuditRow[]): AppendResult => ({
  appended: rows.map((r) => r.eventId),
  duplicates: [],
  head: { seq: BigInt(rows.length), hash: GENESIS_HASH },
  checkpointSeq: 0n,
});

/** An in-memory stand-in for the chain writer and rejected_events. */
function fakeStore(fail: (orgId: string, rows: AuditRow[]) => Error | undefined, concurrency = 2) {
  const appended: Array<{ orgId: string; requestIds: string[] }> = [];
  const rejected: string[] = [];
  const append = (orgId: string, rows: AuditRow[]) => {
    const err = fail(orgId, rows);
    if (err) return Promise.reject(err);
    appended.push({ orgId, requestIds: rows.map((r) => r.requestId) });
    return Promise.resolve(ok(rows));
  };
  const ingest = createBatchIngest({
    append,
    // One transaction: all orgs or none (checked before any is "written").
    appendMany: async (batches) => {
      const err = batches.map((b) => fail(b.orgId, b.rows)).find(Boolean);
      if (err) throw err;
      return new Map(
        await Promise.all(
          batches.map(async (b) => [b.orgId, await append(b.orgId, b.rows)] as const),
        ),
      );
    },
    reject: (e) => {
      rejected.push(e.reason);
      return Promise.resolve();
    },
    concurrency,
    logger: createLogger({ service: 'audit-test', level: 'silent' }),
  });
  return { ingest, appended, rejected };
}

describe('batch ingest', () => {
  it('falls back to one transaction per org when a shared one fails on data, so others get in', async () => {
    const s = fakeStore(
      (org, rows) =>
        org === 'org_bad' && rows.some((r) => r.requestId === 'bad') ? pgError('22P05') : undefined,
      1,
    );
    const msgs = [
      message(event('org_bad', 'bad')),
      message(event('org_bad', 'fine')),
      message(event('org_ok', 'x')),
    ];
    await s.ingest(msgs);
    assert.deepEqual(s.rejected, ['the database refused the row (sqlstate 22P05)']);
    assert.deepEqual(s.appended.map((a) => a.requestIds).sort(), [['fine'], ['x']]);
    assert.deepEqual(
      msgs.map((m) => m.settled),
      [['ack'], ['ack'], ['ack']],
    );
  });

  it('appends each org once per batch, in stream order, and acks every message after', async () => {
    const s = fakeStore(() => undefined);
    const msgs = [
      message(event('org_a', 'r1')),
      message(event('org_b', 'r2')),
      message(event('org_a', 'r3')),
    ];
    await s.ingest(msgs);
    assert.deepEqual(
      s.appended.sort((x, y) => x.orgId.localeCompare(y.orgId)),
      [
        { orgId: 'org_a', requestIds: ['r1', 'r3'] },
        { orgId: 'org_b', requestIds: ['r2'] },
      ],
    );
    assert.deepEqual(
      msgs.map((m) => m.settled),
      [['ack'], ['ack'], ['ack']],
    );
  });

  it('naks (for redelivery) the messages of an org whose transaction failed, and only those', async () => {
    const s = fakeStore((org) => (org === 'org_down' ? pgError('57P01') : undefined));
    const down = message(event('org_down'));
    const fine = message(event('org_fine'));
    await s.ingest([down, fine]);
    assert.deepEqual([down.settled, fine.settled], [['nak'], ['ack']]);
    assert.deepEqual(s.rejected, []);
  });

  it('naks on a connection error without a code (never loses what it could not write)', async () => {
    const s = fakeStore(() =>
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    );
    const m = message(event('org_a'));
    await s.ingest([m]);
    assert.deepEqual(m.settled, ['nak']);
  });

  it('isolates a poison row: the others of its org are written, it is kept with its reason', async () => {
    const s = fakeStore((_, rows) =>
      rows.some((r) => r.requestId === 'bad') ? pgError('22P05') : undefined,
    );
    const msgs = [
      message(event('org_a', 'good1')),
      message(event('org_a', 'bad')),
      message(event('org_a', 'good2')),
    ];
    await s.ingest(msgs);
    assert.deepEqual(
      s.appended.map((a) => a.requestIds),
      [['good1'], ['good2']],
    );
    assert.deepEqual(s.rejected, ['the database refused the row (sqlstate 22P05)']);
    assert.deepEqual(
      msgs.map((m) => m.settled),
      [['ack'], ['ack'], ['ack']],
    );
  });

  it('retries, rather than rejects, a clash on the chain position (a head out of step)', async () => {
    const s = fakeStore(() => pgError('23505', 'events_org_seq_unique'));
    const m = message(event('org_a'));
    await s.ingest([m]);
    assert.deepEqual([m.settled, s.rejected], [['nak'], []]);
  });

  const invalid = [
    {
      name: 'bytes that are not an envelope',
      data: new Uint8Array([0xff, 0xff, 0xff]),
      reason: 'not an event envelope',
    },
    {
      name: 'an envelope without an org',
      data: event(''),
      reason: 'org_id is missing or malformed',
    },
  ];
  for (const c of invalid)
    it(`keeps ${c.name} in rejected events and acks it`, async () => {
      const s = fakeStore(() => undefined);
      const m = message(c.data);
      await s.ingest([m]);
      assert.deepEqual([s.rejected, m.settled, s.appended], [[c.reason], ['ack'], []]);
    });

  it('naks a rejected event it could not keep (database down)', async () => {
    const ingest = createBatchIngest({
      append: () => Promise.reject(new Error('unused')),
      appendMany: () => Promise.reject(new Error('unused')),
      reject: () => Promise.reject(pgError('57P01')),
      concurrency: 1,
      logger: createLogger({ service: 'audit-test', level: 'silent' }),
    });
    const m = message(new Uint8Array([0xff]));
    await ingest([m]);
    assert.deepEqual(m.settled, ['nak']);
  });
});
