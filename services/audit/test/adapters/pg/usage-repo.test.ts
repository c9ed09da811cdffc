import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { envelope } from '@fortress/kit/event-bus';
import { Decision, Product } from '@fortress/proto/common/v1/common_pb';
import type pg from 'pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import {
  createUsageRepo,
  DENIED_SQL,
  USAGE_BY_MODEL_SQL,
} from '../../../src/adapters/pg/usage-repo.js';
import { toAuditRow, type AuditRow } from '../../../src/domain/audit-row.js';
import { microsOf } from '../../../src/domain/pat-usage.js';
import { verifyOrg } from '../../../src/verify/verify-org.js';
import { migrationsAfter, migrationsUpTo, provisionAudit } from '../../support/audit-migrations.js';
import { appendGenerated, planOf } from '../../support/bulk-log.js';

const ORGS = Array.from({ length: 10 }, (_, i) => `org_u${i}`);
const KEYS = 8;
const START = Date.UTC(2026, 8, 1);
const DAY = 86_400_000;

/** Row n of a PAT org's traffic over 60 days: alternately a decision (1 in 5 a deny) and an outcome. */
function patRow(n: number, total: number): AuditRow {
  const orgId = ORGS[n % ORGS.length] ?? '';
  const value = {
    requestId: `req_${n}`,
    product: Product.PAT,
    actor: { subjectId: 'key_1', patKeyId: `pat_${orgId.slice(4)}k${(n >> 4) % KEYS}` },
    action: 'pat:messages.create',
    resource: `model:claude-${['sonnet', 'haiku', 'opus'][n % 3] ?? ''}`,
  };
  return toAuditRow(
    envelope({
      orgId,
      occurredAt: timestampFromDate(new Date(START + Math.floor((n / total) * 60 * DAY))),
      source: 'edge',
      payload:
        n % 2 === 0
          ? {
              case: 'decision',
              value: { ...value, decision: n % 10 === 0 ? Decision.DENY : Decision.ALLOW },
            }
          : {
              case: 'outcome',
              value: { ...value, usage: { inputTokens: 10n }, spendMicrousd: 7n, statusCode: 200 },
            },
    }),
  );
}

/**
 * Migration 003 (usage per PAT key) on an installation that already has chained rows: they
 * get their key column, still verify, and are counted; the key is part of the index range
 * under row-level security.
 */
describe('usage per PAT key on PostgreSQL (migration 003)', function () {
  this.timeout(120_000);
  const TOTAL = 4000;
  const BEFORE = 3000;
  let fx: PgFixture;
  let upTo002: string;
  let pool: pg.Pool;
  let applied: number;
  const noCopies = { list: () => Promise.resolve([]) };
  const keys = new Map([['k', createPublicKey(generateKeyPairSync('ed25519').privateKey)]]);

  before(async () => {
    fx = await startPgFixture([]);
    upTo002 = await migrationsUpTo('002');
    await provisionAudit(fx, upTo002);
    pool = fx.runtimePool('audit');
    const rowOf = (n: number) => patRow(n, TOTAL);
    await appendGenerated(pool, ORGS, rowOf, 0, BEFORE);
    applied = await provisionAudit(fx);
    await appendGenerated(pool, ORGS, rowOf, BEFORE, TOTAL);
    await fx.admin.query('ANALYZE audit.events');
  });
  after(async () => {
    await fx?.stop();
    if (upTo002) await rm(upTo002, { recursive: true, force: true });
  });

  it('applies on top of a chained log', async () => {
    assert.equal(applied, await migrationsAfter('002'));
  });

  it('leaves every chain verifying, rows from before the migration and after', async () => {
    for (const org of ORGS) {
      const v = await verifyOrg({ pool, objectStore: noCopies, keys }, org);
      assert.deepEqual([v.ok, v.recordsChecked], [true, TOTAL / ORGS.length], org);
    }
  });

  it('keys the rows written before it, and counts them', async () => {
    const { rows } = await fx.admin.query<{ keyed: string; all: string }>(
      `SELECT count(pat_key_id) AS keyed, count(*) AS all FROM audit.events WHERE org_seq <= $1`,
      [BEFORE / ORGS.length],
    );
    assert.deepEqual(rows, [{ keyed: String(BEFORE), all: String(BEFORE) }]);
    const expected = Array.from({ length: TOTAL }, (_, n) => patRow(n, TOTAL)).filter(
      (r) => r.kind === 'outcome' && (r.actor as { patKeyId: string }).patKeyId === 'pat_u3k2',
    ).length;
    const usage = await createUsageRepo(pool).summarize({
      orgId: 'org_u3',
      patKeyId: 'pat_u3k2',
      sinceUs: microsOf(new Date(START)),
      untilUs: microsOf(new Date(START + 60 * DAY)),
    });
    assert.ok(expected > 0);
    assert.equal(
      usage.models.reduce((n, m) => n + m.requests, 0n),
      BigInt(expected),
    );
  });

  it('refuses to set the key column apart from the actor it comes from', async () => {
    const client = await fx.admin.connect();
    try {
      // Even a superuser past the append-only trigger.
      await client.query('SET session_replication_role = replica');
      await assert.rejects(
        client.query("UPDATE audit.events SET pat_key_id = 'pat_other' WHERE org_seq = 1"),
        /can only be updated to DEFAULT/,
      );
    } finally {
      await client.query('RESET session_replication_role');
      client.release();
    }
  });

  const scans = [
    { name: 'usage', sql: USAGE_BY_MODEL_SQL, index: 'events_pat_usage' },
    { name: 'denies', sql: DENIED_SQL, index: 'events_pat_denies' },
  ];
  for (const s of scans)
    it(`reads a key's ${s.name} by a range of ${s.index} under row-level security`, async () => {
      const args = ['org_u3', 'pat_u3k2', '2026-10-01T00:00:00Z', '2026-10-15T00:00:00Z'];
      const all = await planOf(pool, 'org_u3', s.sql, args);
      assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan'), JSON.stringify(all));
      const scan = all.find((n) => n['Index Name'] === s.index);
      assert.match(scan?.['Index Cond'] ?? '', /pat_key_id = 'pat_u3k2'/, JSON.stringify(all));
      assert.match(scan?.['Index Cond'] ?? '', /occurred_at >= /);
    });
});
