import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createRewrapJob } from '../../src/jobs/rewrap-job.js';
import type { RewrapStore } from '../../src/domain/ports.js';
import type { VaultApp } from '../../src/wiring.js';
import { seedCredentials, seededId, seededSecret } from '../support/bulk-seed.js';
import { startVaultFixture, type VaultFixture } from '../support/vault-fixture.js';

const freshOrg = (p: string) => `org_${p}${randomBytes(4).toString('hex')}`;

/** Resolves credential i through a replica; true when it returned exactly the seeded secret. */
async function reads(app: VaultApp, orgId: string, i: number): Promise<boolean> {
  const r = await app.vault.resolve({
    orgId,
    id: seededId(i),
    version: 0,
    sessionId: '',
    subjectId: 'usr_1',
  });
  if (!r.ok) return false;
  const same = r.value.material.equals(Buffer.from(seededSecret(orgId, i)));
  r.value.material.fill(0);
  return same;
}

/** Runs `count` checks with `concurrency` workers; the indexes that failed. */
async function checkAll(
  count: number,
  concurrency: number,
  check: (i: number) => Promise<boolean>,
) {
  const failed: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        if (!(await check(i).catch(() => false))) failed.push(i);
      }
    }),
  );
  return failed;
}

/** Runs the re-wrap job on every replica at once until it is done. */
async function rewrapToTheEnd(orgId: string, replicas: VaultApp[]): Promise<number> {
  let total = 0;
  for (let pass = 0; pass < 200; pass++) {
    const runs = await Promise.all(replicas.map((r) => r.rewrap.run(orgId, 500)));
    total += runs.reduce((sum, r) => sum + r.rewrapped, 0);
    if (runs.some((r) => r.state === 'done' || r.state === 'idle')) return total;
  }
  throw new Error('the re-wrap did not finish');
}

describe('data key rotation and the background re-wrap', function () {
  this.timeout(180_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  after(() => f?.stop());

  it('re-wraps 10,000 credentials on two replicas under concurrent resolves: zero failures, all readable after', async () => {
    const COUNT = 10_000;
    const org = freshOrg('big');
    const admin = f.replica({ FORTRESS_REWRAP_BATCH: 250 });
    await seedCredentials(f.fx.admin, admin, org, COUNT);
    const readers = [f.replica(), f.replica()];
    let stop = false;
    let resolves = 0;
    const failures: number[] = [];
    const load = Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        while (!stop) {
          const i = Math.floor(Math.random() * COUNT);
          if (!(await reads(readers[w % 2] as VaultApp, org, i).catch(() => false)))
            failures.push(i);
          resolves += 1;
        }
      }),
    );
    const rotation = await admin.rotation.rotate(org, 'usr_admin');
    assert.equal(rotation.epoch, 2);
    const second = f.replica({ FORTRESS_REWRAP_BATCH: 250 });
    const rewrapped = await rewrapToTheEnd(org, [admin, second]);
    stop = true;
    await load;
    assert.deepEqual(failures, [], `${failures.length} of ${resolves} resolves failed`);
    assert.ok(resolves > 100, `only ${resolves} resolves ran during the re-wrap`);
    assert.equal(rewrapped, COUNT, 'each credential re-wrapped exactly once across replicas');
    const job = await admin.rewraps.job(org, rotation.jobId);
    assert.deepEqual([job?.state, job?.rewrapped], ['done', COUNT]);
    assert.deepEqual(
      (await admin.keys.epochs(org)).map((e) => e.epoch),
      [2],
      'the old wrapped data key was shredded',
    );
    const { rows } = await f.fx.admin.query(
      'SELECT key_epoch, count(*)::int AS n FROM vault.credentials WHERE org_id = $1 GROUP BY 1',
      [org],
    );
    assert.deepEqual(rows, [{ key_epoch: 2, n: COUNT }]);
    const fresh = f.replica();
    assert.deepEqual(await checkAll(COUNT, 16, (i) => reads(fresh, org, i)), []);
  });

  it('resumes an interrupted re-wrap where it stopped, losing only the batch that crashed', async () => {
    const COUNT = 1000;
    const BATCH = 100;
    const org = freshOrg('crash');
    const app = f.replica({ FORTRESS_REWRAP_BATCH: BATCH });
    await seedCredentials(f.fx.admin, app, org, COUNT);
    const rotation = await app.rotation.rotate(org, 'usr_admin');
    let batches = 0;
    const crashing: RewrapStore = {
      ...app.rewraps,
      rewrapBatch: (job, from, limit, rewrap) =>
        app.rewraps.rewrapBatch(job, from, limit, (rows) => {
          batches += 1;
          if (batches === 3) throw new Error('the process died mid-batch');
          return rewrap(rows);
        }),
    };
    const doomed = createRewrapJob({
      keys: app.keys,
      store: crashing,
      orgKeys: app.orgKeys,
      sessions: app.sessions,
      batchSize: BATCH,
    });
    await assert.rejects(doomed.run(org, 10_000), /died mid-batch/);
    const after = await app.rewraps.job(org, rotation.jobId);
    assert.deepEqual([after?.state, after?.rewrapped], ['running', 2 * BATCH]);
    assert.equal(await app.rewraps.remaining(org, rotation.epoch), COUNT - 2 * BATCH);
    // A new process: its own caches, nothing but what PostgreSQL remembers.
    const restarted = f.replica({ FORTRESS_REWRAP_BATCH: BATCH });
    assert.deepEqual(await restarted.rewrap.run(org, 10_000), {
      state: 'done',
      rewrapped: COUNT - 2 * BATCH,
    });
    const done = await app.rewraps.job(org, rotation.jobId);
    assert.deepEqual([done?.state, done?.rewrapped], ['done', COUNT]);
    assert.deepEqual(await checkAll(COUNT, 16, (i) => reads(restarted, org, i)), []);
  });

  it('never lets a superseded job finish: its stale pass retires nothing and the newer epoch stays', async () => {
    const org = freshOrg('stale');
    const app = f.replica();
    const first = await app.rotation.rotate(org, 'usr_admin');
    const stale = await app.rewraps.activeJob(org);
    assert.equal(stale?.id, first.jobId);
    const second = await app.rotation.rotate(org, 'usr_admin');
    // The first job's worker read its row before the second rotation and now tries to finish.
    assert.deepEqual(await app.rewraps.finish(stale, []), []);
    assert.deepEqual(
      (await app.keys.epochs(org)).map((e) => e.epoch),
      [first.epoch, second.epoch],
    );
    assert.equal((await app.rewraps.job(org, first.jobId))?.state, 'superseded');
    assert.deepEqual(await app.rewrap.run(org, 5000), { state: 'done', rewrapped: 0 });
    assert.deepEqual(
      (await app.keys.epochs(org)).map((e) => e.epoch),
      [second.epoch],
    );
  });

  it('lets another replica take over an org whose worker died holding its lease, once the lease runs out', async () => {
    const org = freshOrg('lease');
    const app = f.replica({ FORTRESS_WORKER_LEASE_MS: 300 });
    await seedCredentials(f.fx.admin, app, org, 50);
    await app.rotation.rotate(org, 'usr_admin');
    await f.fx.admin.query(
      'UPDATE vault.org_work SET sweep_due_at = NULL, outbox_due_at = NULL WHERE org_id = $1',
      [org],
    );
    // The dying replica claims the org and never releases it.
    const { rows } = await f.fx.admin.query(
      `UPDATE vault.org_work SET lease_owner = 'dead-replica', lease_until = now() + interval '300 milliseconds'
       WHERE org_id = $1 RETURNING org_id`,
      [org],
    );
    assert.equal(rows.length, 1);
    const survivor = f.replica({ FORTRESS_WORKER_LEASE_MS: 300 });
    await survivor.worker.kick(org);
    assert.equal((await survivor.rewraps.activeJob(org))?.rewrapped, 0, 'untouched while leased');
    const deadline = Date.now() + 5000;
    while ((await survivor.rewraps.activeJob(org)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 25));
      await survivor.worker.kick(org);
    }
    assert.equal(await survivor.rewraps.activeJob(org), undefined, 'the survivor finished the job');
    // The finishing pass wrote events (new work), so one more pass clears what is left.
    await survivor.worker.kick(org);
    const { rows: lease } = await f.fx.admin.query(
      'SELECT lease_owner, rewrap_due_at FROM vault.org_work WHERE org_id = $1',
      [org],
    );
    assert.deepEqual(lease, [{ lease_owner: null, rewrap_due_at: null }]);
  });

  it('rotates on schedule when an org’s rotation falls due, as the system actor', async () => {
    const org = freshOrg('sched');
    const app = f.replica();
    await seedCredentials(f.fx.admin, app, org, 20);
    await f.fx.admin.query(
      "UPDATE vault.org_work SET rotation_due_at = now() - interval '1 second' WHERE org_id = $1",
      [org],
    );
    for (let i = 0; i < 10; i++) await app.worker.tick();
    assert.deepEqual(
      (await app.keys.epochs(org)).map((e) => e.epoch),
      [2],
    );
    const { rows } = await f.fx.admin.query<{ days: number }>(
      `SELECT round(extract(epoch FROM rotation_due_at - now()) / 86400)::int AS days
       FROM vault.org_work WHERE org_id = $1`,
      [org],
    );
    assert.deepEqual(rows, [{ days: 90 }]);
    const changes = f.published
      .filter((e) => e.orgId === org && e.payload.case === 'change')
      .map((e) =>
        e.payload.case === 'change'
          ? [
              e.payload.value.entityType,
              e.payload.value.operation,
              e.payload.value.actor?.subjectId,
            ]
          : [],
      );
    assert.deepEqual(changes, [
      ['data_key', 'rotate', 'system:vault'],
      ['data_key', 'update', 'system:vault'],
    ]);
  });
});
