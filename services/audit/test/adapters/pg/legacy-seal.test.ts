import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { createChainWriter } from '../../../src/adapters/pg/chain-writer.js';
import { verifyOrg } from '../../../src/verify/verify-org.js';
import { auditRow } from '../../support/audit-fixture.js';
import { migrationsAfter, migrationsUpTo, provisionAudit } from '../../support/audit-migrations.js';

/**
 * Rows written before the hash chain existed (migration 001 only) are sealed into the chain by
 * migration 002 — the upgrade of an existing installation — and verify like any other.
 */
describe('migration 002 seals rows written before the chain', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let only001: string;
  const ORGS = ['org_old1', 'org_old2'];
  const noCopies = { list: () => Promise.resolve([]) };
  const keys = new Map([['k', createPublicKey(generateKeyPairSync('ed25519').privateKey)]]);

  before(async () => {
    fx = await startPgFixture([]);
    only001 = await migrationsUpTo('001');
    assert.equal(await provisionAudit(fx, only001), 1);
    // As the 001-era service wrote them, interleaved across orgs, with odd content.
    for (let i = 0; i < 7; i++) {
      const org = ORGS[i % 2] ?? '';
      await fx.admin.query(
        `INSERT INTO audit.events (event_id, org_id, kind, occurred_at, source, actor, action, reasons, latency_us, status_code, event)
         VALUES ($1, $2, 'outcome', now() - interval '1 day' * $3, 'edge', $4, $5, $6, $7, $8, $9)`,
        [
          randomUUID(),
          org,
          i,
          { kind: 'PRINCIPAL_KIND_ORG_KEY', z: [1.5, 'é'] },
          `act "${i}"\n`,
          '[]',
          1000 * i,
          200,
          { orgId: org, n: i, big: 1e21 },
        ],
      );
    }
    // 002 and every migration after it.
    assert.equal(await provisionAudit(fx), await migrationsAfter('001'));
  });
  after(async () => {
    await fx?.stop();
    if (only001) await rm(only001, { recursive: true, force: true });
  });

  it('gives the old rows consecutive sequences per org and a chain head', async () => {
    const { rows } = await fx.admin.query<{ org_id: string; seqs: string; head: string }>(
      `SELECT e.org_id, string_agg(e.org_seq::text, ',' ORDER BY e.seq) AS seqs, h.seq::text AS head
         FROM audit.events e JOIN audit.chain_heads h USING (org_id) GROUP BY e.org_id, h.seq ORDER BY e.org_id`,
    );
    assert.deepEqual(rows, [
      { org_id: 'org_old1', seqs: '1,2,3,4', head: '4' },
      { org_id: 'org_old2', seqs: '1,2,3', head: '3' },
    ]);
  });

  it('verifies the sealed rows, and new rows chained after them', async () => {
    const pool = fx.runtimePool('audit');
    await createChainWriter(pool).append('org_old1', [
      auditRow('org_old1', 1),
      auditRow('org_old1', 2),
    ]);
    for (const org of ORGS) {
      const v = await verifyOrg({ pool, objectStore: noCopies, keys }, org);
      assert.equal(v.ok, true, `${org}: ${v.failure?.problem}`);
    }
  });

  it('detects an edit of a sealed row', async () => {
    const client = await fx.admin.connect();
    try {
      await client.query('SET session_replication_role = replica');
      await client.query(
        "UPDATE audit.events SET action = 'x' WHERE org_id = 'org_old2' AND org_seq = 2",
      );
    } finally {
      client.release();
    }
    const v = await verifyOrg(
      { pool: fx.runtimePool('audit'), objectStore: noCopies, keys },
      'org_old2',
    );
    assert.deepEqual(
      { seq: v.failure?.seq, reason: v.failure?.reason },
      { seq: 2n, reason: 'hash_mismatch' },
    );
  });
});
