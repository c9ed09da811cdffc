import assert from 'node:assert/strict';
import { createLogger } from '@fortress/kit/log';
import { inTenant } from '@fortress/kit/pg';
import { createChainWriter } from '../../src/adapters/pg/chain-writer.js';
import { createRetentionRepo } from '../../src/adapters/pg/retention-repo.js';
import { signCheckpoint } from '../../src/domain/checkpoint.js';
import { createRetentionJob, type RetentionJob } from '../../src/jobs/retention-job.js';
import { auditRow, startAuditFixture, type AuditFixture } from '../support/audit-fixture.js';

const DAY = 86_400_000;
const daysAgo = (n: number) => () => new Date(Date.now() - n * DAY);

describe('retention', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  let job: RetentionJob;
  before(async () => {
    fx = await startAuditFixture();
    job = createRetentionJob({
      repo: createRetentionRepo(fx.pool),
      key: fx.key,
      publish: (cp) => fx.copies.put(cp),
      chunk: 4,
      logger: createLogger({ service: 'audit-test', level: 'silent' }),
    });
  });
  after(() => fx?.stop());

  /** Writes `count` rows of `org` as if recorded `age` days ago. */
  const writeAged = (org: string, age: number, from: number, count: number) =>
    createChainWriter(fx.pool, daysAgo(age)).append(
      org,
      Array.from({ length: count }, (_, i) => auditRow(org, from + i)),
    );
  const count = async (org: string) =>
    (
      await fx.pg.admin.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit.events WHERE org_id = $1',
        [org],
      )
    ).rows[0]?.n;

  const tiers = [
    { name: 'the default (90 days)', tier: undefined, ages: [400, 120, 91, 89, 1], kept: 2 },
    { name: 'soho (90 days)', tier: 'soho' as const, ages: [120, 30], kept: 1 },
    { name: 'bank (1 year)', tier: 'bank' as const, ages: [800, 400, 200, 100], kept: 2 },
    { name: 'zero trust (7 years)', tier: 'zero_trust' as const, ages: [3000, 2000, 400], kept: 2 },
  ];
  tiers.forEach((t, i) => {
    it(`deletes what ${t.name} no longer keeps, and what remains still verifies`, async () => {
      const org = `org_ret${i}`;
      let n = 1;
      for (const age of t.ages) await writeAged(org, age, (n += 3), 3);
      // Setting the tier is itself recorded, now, at the end of the chain.
      if (t.tier)
        await createRetentionRepo(fx.pool).set(org, t.tier, () =>
          auditRow(org, 0, { kind: 'change' }),
        );
      await fx.checkpoint(org);
      // Retention waits for the export of what it deletes (tested on its own below).
      await fx.exportOwed(org);
      const before = await count(org);
      const deleted = await job.runOrg(org);
      assert.equal(await count(org), (before ?? 0) - deleted);
      assert.equal(
        await count(org),
        t.kept * 3 + (t.tier ? 1 : 0),
        'the young rows (and the tier change) stay',
      );
      const v = await fx.verify(org);
      assert.equal(v.ok, true, v.failure?.problem);
      assert.equal(
        v.firstSequence,
        BigInt(deleted + 1),
        'verification starts from the retention anchor',
      );
    });
  });

  it('holds rows whose export segment is still owed, and deletes them once it is written', async () => {
    const org = 'org_ret_owed';
    await writeAged(org, 200, 1, 3);
    await fx.checkpoint(org); // queues 1..3 for export
    await writeAged(org, 1, 4, 2);
    assert.equal(await job.runOrg(org), 0, 'deleted before the export wrote it');
    await fx.exportOwed(org);
    assert.equal(await job.runOrg(org), 3);
    assert.equal((await fx.verify(org)).ok, true);
  });
});

describe('retention guards in the database', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  const ORG = 'org_guard';
  before(async () => {
    fx = await startAuditFixture();
    await createChainWriter(fx.pool, daysAgo(200)).append(
      ORG,
      [1, 2, 3].map((n) => auditRow(ORG, n)),
    );
    await createChainWriter(fx.pool).append(
      ORG,
      [4, 5].map((n) => auditRow(ORG, n)),
    );
  });
  after(() => fx?.stop());

  const hashAt = async (seq: number) =>
    (
      await fx.pg.admin.query<{ hash: Buffer }>(
        'SELECT hash FROM audit.events WHERE org_id = $1 AND org_seq = $2',
        [ORG, seq],
      )
    ).rows[0]?.hash ?? Buffer.alloc(32);
  const apply = async (org: string, tenant: string, seq: number, hash: Buffer) => {
    const cp = signCheckpoint(fx.key, 'retention', org, { seq: BigInt(seq), hash }, new Date());
    return inTenant(fx.pool, tenant, (db) =>
      db.query('SELECT apply_retention($1, $2, $3, $4, $5, $6, $7)', [
        org,
        seq,
        hash,
        cp.signedAt,
        cp.keyId,
        cp.statement,
        cp.signature,
      ]),
    );
  };

  const refusals = [
    {
      name: 'rows that are not past retention yet',
      seq: 4,
      tenant: ORG,
      error: /not all past retention/,
    },
    {
      name: 'an anchor that is not the stored hash',
      seq: 2,
      tenant: ORG,
      hash: Buffer.alloc(32, 9),
      error: /not the chain's hash/,
    },
    { name: 'another tenant', seq: 2, tenant: 'org_other', error: /outside its tenant/ },
  ];
  for (const r of refusals)
    it(`refuses to delete ${r.name}`, async () => {
      await assert.rejects(apply(ORG, r.tenant, r.seq, r.hash ?? (await hashAt(r.seq))), r.error);
    });

  it('refuses to delete rows the export still owes', async () => {
    const org = 'org_guard_owed';
    await createChainWriter(fx.pool, daysAgo(200)).append(
      org,
      [1, 2].map((n) => auditRow(org, n)),
    );
    await fx.checkpoint(org);
    const { rows } = await fx.pg.admin.query<{ hash: Buffer }>(
      'SELECT hash FROM audit.events WHERE org_id = $1 AND org_seq = 2',
      [org],
    );
    await assert.rejects(
      apply(org, org, 2, rows[0]?.hash ?? Buffer.alloc(32)),
      /not all exported yet/,
    );
  });

  it('refuses DELETE to the runtime role even with the retention settings set by hand', async () => {
    await assert.rejects(
      inTenant(fx.pool, ORG, async (db) => {
        await db.query(
          "SELECT set_config('fortress.retention_org', $1, true), set_config('fortress.retention_upto', '3', true)",
          [ORG],
        );
        await db.query('DELETE FROM events WHERE org_seq <= 3');
      }),
      /permission denied/,
    );
  });

  it('deletes an expired prefix through apply_retention, recording the anchor first', async () => {
    await apply(ORG, ORG, 3, await hashAt(3));
    const { rows } = await fx.pg.admin.query<{ org_seq: string }>(
      'SELECT org_seq::text FROM audit.events e WHERE org_id = $1 ORDER BY e.org_seq',
      [ORG],
    );
    assert.deepEqual(
      rows.map((r) => r.org_seq),
      ['4', '5'],
    );
    const anchors = await fx.pg.admin.query(
      "SELECT seq::text FROM audit.checkpoints WHERE org_id = $1 AND kind = 'retention'",
      [ORG],
    );
    assert.deepEqual(anchors.rows, [{ seq: '3' }]);
  });

  it('still refuses DELETE to the superuser outside apply_retention', async () => {
    await assert.rejects(
      fx.pg.admin.query('DELETE FROM audit.events WHERE org_id = $1', [ORG]),
      /append-only: DELETE refused/,
    );
    await assert.rejects(
      fx.pg.admin.query('DELETE FROM audit.checkpoints'),
      /append-only: DELETE refused/,
    );
  });
});
