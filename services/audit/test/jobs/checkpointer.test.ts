import assert from 'node:assert/strict';
import { createLogger } from '@fortress/kit/log';
import { createCheckpointer } from '../../src/jobs/checkpointer.js';
import type { SignedCheckpoint } from '../../src/domain/checkpoint.js';
import { auditRow, startAuditFixture, type AuditFixture } from '../support/audit-fixture.js';

const logger = createLogger({ service: 'audit-test', level: 'silent' });

describe('checkpointer', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  before(async () => {
    fx = await startAuditFixture();
  });
  after(() => fx?.stop());

  const dbCheckpoints = async (org: string) =>
    (
      await fx.pg.admin.query<{ seq: string }>(
        "SELECT seq::text FROM audit.checkpoints c WHERE org_id = $1 AND kind = 'periodic' ORDER BY c.seq",
        [org],
      )
    ).rows.map((r) => r.seq);
  const write = (org: string, n: number) =>
    fx.writer.append(
      org,
      Array.from({ length: n }, (_, i) => auditRow(org, i)),
    );
  const make = (o: {
    every: number;
    intervalMs: number;
    publish?: (cp: SignedCheckpoint) => Promise<void>;
  }) =>
    createCheckpointer({
      repo: fx.checkpoints,
      key: fx.key,
      publish: o.publish ?? ((cp) => fx.copies.put(cp)),
      every: o.every,
      intervalMs: o.intervalMs,
      logger,
    });

  it('checkpoints an org when N rows are unsigned, in both places, and not before', async () => {
    const org = 'org_cp_n';
    const c = make({ every: 10, intervalMs: 3_600_000 });
    const r1 = await write(org, 6);
    c.nudge(org, r1.head.seq - r1.checkpointSeq);
    await c.tick();
    assert.deepEqual(await dbCheckpoints(org), []);
    const r2 = await write(org, 6);
    c.nudge(org, r2.head.seq - r2.checkpointSeq);
    await c.stop();
    assert.deepEqual(await dbCheckpoints(org), ['12']);
    assert.deepEqual(
      (await fx.copies.list(org)).map((o) => o.key),
      [`checkpoints/${org}/periodic/${'12'.padStart(20, '0')}.json`],
    );
  });

  it('checkpoints every org with unsigned rows older than T on a tick', async () => {
    const c = make({ every: 1_000_000, intervalMs: 1 });
    await write('org_cp_t1', 3);
    await write('org_cp_t2', 2);
    await c.tick();
    assert.deepEqual(
      [await dbCheckpoints('org_cp_t1'), await dbCheckpoints('org_cp_t2')],
      [['3'], ['2']],
    );
    await c.tick();
    assert.deepEqual(await dbCheckpoints('org_cp_t1'), ['3'], 'nothing new, nothing signed');
  });

  it('signs a position once however many checkpointers (replicas) race for it', async () => {
    const org = 'org_cp_race';
    await write(org, 5);
    const racers = [0, 1, 2, 3].map(() => make({ every: 1, intervalMs: 1 }));
    await Promise.all(racers.map((r) => r.tick()));
    assert.deepEqual(await dbCheckpoints(org), ['5']);
    assert.equal((await fx.verify(org)).ok, true);
  });

  it('writes no database row when the object store copy fails, and catches up later', async () => {
    const org = 'org_cp_down';
    await write(org, 4);
    const down = make({
      every: 1,
      intervalMs: 1,
      publish: () => Promise.reject(new Error('store down')),
    });
    await down.tick();
    assert.deepEqual(await dbCheckpoints(org), []);
    await make({ every: 1, intervalMs: 1 }).tick();
    assert.deepEqual(await dbCheckpoints(org), ['4']);
  });
});
