import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { createChainWriter } from '../../../src/adapters/pg/chain-writer.js';
import { poisonReason } from '../../../src/ingest/poison.js';
import { auditRow, startAuditFixture, type AuditFixture } from '../../support/audit-fixture.js';

describe('chain writer on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  before(async () => {
    fx = await startAuditFixture();
  });
  after(() => fx?.stop());

  const seqs = async (orgId: string) =>
    (
      await fx.pg.admin.query<{ org_seq: string }>(
        'SELECT org_seq::text FROM audit.events e WHERE org_id = $1 ORDER BY e.org_seq',
        [orgId],
      )
    ).rows.map((r) => Number(r.org_seq));

  it('gives each org its own gap-free sequence and a chain that verifies', async () => {
    await fx.writer.append(
      'org_w1',
      [1, 2, 3].map((n) => auditRow('org_w1', n)),
    );
    await fx.writer.append(
      'org_w2',
      [1, 2].map((n) => auditRow('org_w2', n)),
    );
    await fx.writer.append(
      'org_w1',
      [4, 5].map((n) => auditRow('org_w1', n)),
    );
    assert.deepEqual(await seqs('org_w1'), [1, 2, 3, 4, 5]);
    assert.deepEqual(await seqs('org_w2'), [1, 2]);
    for (const org of ['org_w1', 'org_w2']) assert.equal((await fx.verify(org)).ok, true, org);
  });

  it('writes a redelivered event once, and an event repeated in one batch once, without a gap', async () => {
    const org = 'org_dup';
    const a = auditRow(org, 1);
    const b = auditRow(org, 2);
    const first = await fx.writer.append(org, [a, b, a]);
    assert.deepEqual([first.appended, first.duplicates], [[a.eventId, b.eventId], [a.eventId]]);
    const again = await fx.writer.append(org, [b, auditRow(org, 3), a]);
    assert.deepEqual([again.appended.length, again.duplicates], [1, [b.eventId, a.eventId]]);
    assert.deepEqual(await seqs(org), [1, 2, 3]);
    assert.equal((await fx.verify(org)).ok, true);
  });

  it('serialises concurrent writers of one org (replicas) into one chain with no gaps', async () => {
    const org = 'org_race';
    // Separate pools stand for separate audit replicas.
    const writers = [0, 1, 2, 3].map(() => createChainWriter(fx.pg.runtimePool('audit')));
    await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        (writers[i % writers.length] ?? fx.writer).append(
          org,
          Array.from({ length: 25 }, (_, j) => auditRow(org, i * 25 + j)),
        ),
      ),
    );
    assert.deepEqual(
      await seqs(org),
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    const v = await fx.verify(org);
    assert.deepEqual([v.ok, v.recordsChecked], [true, 400]);
  });

  it('verifies whatever JSON, text and numbers a row carries, or refuses it as poison', async () => {
    const org = 'org_prop';
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          action: fc.string({ unit: 'binary' }),
          event: fc.jsonValue(),
          actor: fc.dictionary(fc.string(), fc.jsonValue()),
          latencyUs: fc.integer({ min: 0, max: 2 ** 32 }),
          occurredAt: fc.date({
            min: new Date('1970-01-01'),
            max: new Date('9999-12-31'),
            noInvalidDate: true,
          }),
        }),
        async (r) => {
          try {
            await fx.writer.append(org, [auditRow(org, 1, r)]);
          } catch (err) {
            // PostgreSQL refuses NUL characters and lone surrogates: the ingest path keeps such
            // events in rejected_events instead.
            assert.ok(poisonReason(err), String(err));
          }
        },
      ),
      { numRuns: 150 },
    );
    const v = await fx.verify(org);
    assert.equal(v.ok, true, v.failure?.problem);
    assert.ok(v.recordsChecked > 50);
  });

  it('writes several orgs in one transaction, each under its own tenant, all or nothing', async () => {
    await fx.writer.append('org_m1', [auditRow('org_m1', 1)]);
    const results = await fx.writer.appendMany([
      { orgId: 'org_m2', rows: [1, 2].map((n) => auditRow('org_m2', n)) },
      { orgId: 'org_m1', rows: [2, 3].map((n) => auditRow('org_m1', n)) },
    ]);
    assert.deepEqual(
      [...results].map(([org, r]) => [org, r.head.seq]),
      [
        ['org_m1', 3n],
        ['org_m2', 2n],
      ],
    );
    assert.deepEqual(
      [await seqs('org_m1'), await seqs('org_m2')],
      [
        [1, 2, 3],
        [1, 2],
      ],
    );
    const poisoned = fx.writer.appendMany([
      { orgId: 'org_m1', rows: [auditRow('org_m1', 4)] },
      { orgId: 'org_m3', rows: [auditRow('org_m3', 1, { action: 'nul \u0000 byte' })] },
    ]);
    await assert.rejects(poisoned, (err: unknown) => poisonReason(err) !== undefined);
    assert.deepEqual([await seqs('org_m1'), await seqs('org_m3')], [[1, 2, 3], []]);
    for (const org of ['org_m1', 'org_m2']) assert.equal((await fx.verify(org)).ok, true, org);
  });

  it('refuses an event id another org already used, as poison with a clear reason', async () => {
    const id = randomUUID();
    await fx.writer.append('org_id1', [auditRow('org_id1', 1, { eventId: id })]);
    const err = await fx.writer
      .append('org_id2', [auditRow('org_id2', 1, { eventId: id })])
      .catch((e: unknown) => e);
    assert.equal(poisonReason(err), 'event_id is already recorded for another org');
    assert.deepEqual(await seqs('org_id2'), []);
  });
});
