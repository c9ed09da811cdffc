import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inTenant } from '@fortress/kit/pg';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createKeyStore } from '../../../src/adapters/pg/key-store.js';
import type { NewEpoch } from '../../../src/domain/records.js';
import { defaultConfig } from '../../../src/domain/tiers.js';
import type { VaultApp } from '../../../src/wiring.js';
import { createMemoryKeyring, type MemoryKeyring } from '../../support/memory-keyring.js';
import {
  credential,
  refusal,
  resolved,
  startVaultFixture,
  type VaultFixture,
} from '../../support/vault-fixture.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';
const CANARY_A = `sk-ant-api03-CANARY-A-${randomBytes(8).toString('hex')}`;
const CANARY_B = `sk-ant-api03-CANARY-B-${randomBytes(8).toString('hex')}`;

const TENANT_TABLES = ['credentials', 'data_keys', 'key_configs', 'outbox', 'rewrap_jobs'];

describe('vault stores on PostgreSQL', function () {
  this.timeout(120_000);
  let f: VaultFixture;
  let keyring: MemoryKeyring;
  let app: VaultApp;
  const plaintextKeys: Buffer[] = [];

  before(async () => {
    f = await startVaultFixture();
    keyring = createMemoryKeyring();
    app = f.replica({}, keyring);
    await app.vault.put(credential(ORG_A, 'cred_a1', CANARY_A));
    await app.vault.put(credential(ORG_B, 'cred_b1', CANARY_B));
    await app.rotation.rotate(ORG_A, 'usr_admin'); // a config-less org still gets a job row
    await app.rotation.setConfig({ ...defaultConfig(ORG_A, 90), rotation_days: 30 }, 'usr_admin');
    // copies of the data keys while they are live in the cache
    plaintextKeys.push(...keyring.generated.map((k) => Buffer.from(k)));
  });
  after(() => f?.stop());

  describe('schema', () =>
    itHardensTheSchema('vault', TENANT_TABLES, () => f.fx, ORG_A, ['org_work']));

  describe('at rest', () => {
    it('never stores the plaintext of a secret, nor a plaintext data key, in any column of any table', async () => {
      const tables = [...TENANT_TABLES, 'org_work'];
      const needles = [Buffer.from(CANARY_A), Buffer.from(CANARY_B), ...plaintextKeys];
      assert.equal(plaintextKeys.length, 3);
      let rowsSeen = 0;
      for (const t of tables) {
        const { rows } = await f.fx.admin.query<{ row: string }>(
          `SELECT t::text AS row FROM vault.${t} t`,
        );
        rowsSeen += rows.length;
        for (const r of rows)
          for (const needle of needles) {
            assert.ok(!r.row.includes(needle.toString('hex')), `${t} holds plaintext (hex)`);
            assert.ok(!r.row.includes(needle.toString('utf8')), `${t} holds plaintext (text)`);
            assert.ok(!r.row.includes(needle.toString('base64')), `${t} holds plaintext (base64)`);
          }
      }
      assert.ok(rowsSeen >= 8);
      const bytes = await f.fx.admin.query<{ b: Buffer }>(
        `SELECT ciphertext AS b FROM vault.credentials UNION ALL SELECT wrapped_dek FROM vault.credentials
         UNION ALL SELECT wrapped_key FROM vault.data_keys UNION ALL SELECT envelope FROM vault.outbox`,
      );
      for (const r of bytes.rows)
        for (const needle of needles)
          assert.equal(r.b.indexOf(needle), -1, 'raw bytes hold plaintext');
    });

    it('resolves what it stored, and another replica (empty cache) resolves it too', async () => {
      assert.equal((await resolved(app, ORG_A, 'cred_a1')).toString(), CANARY_A);
      assert.equal((await resolved(f.replica({}, keyring), ORG_B, 'cred_b1')).toString(), CANARY_B);
    });
  });

  describe('tenant isolation', () => {
    it('resolves nothing of another org, even by its exact id', async () => {
      assert.equal(await refusal(app, ORG_B, 'cred_a1'), 'credential_not_found');
      assert.equal(await app.creds.metadata(ORG_B, 'cred_a1'), undefined);
      assert.deepEqual(
        (await app.creds.list(ORG_B, '', 50)).map((c) => c.id),
        ['cred_b1'],
      );
    });

    it("shows a tenant none of another org's rows, even when it names the org", async () => {
      for (const table of TENANT_TABLES) {
        const { rows } = await inTenant(f.pool, ORG_A, (db) =>
          db.query(`SELECT 1 FROM ${table} WHERE org_id = $1`, [ORG_B]),
        );
        assert.deepEqual(rows, [], table);
      }
    });

    const writes = [
      {
        name: 'a data key',
        sql: "INSERT INTO data_keys (org_id, epoch, kms_key_id, wrapped_key) VALUES ($1, 9, 'k', '\\x00')",
      },
      {
        name: 'a key configuration',
        sql: "INSERT INTO key_configs (org_id, tier, rotation_days) VALUES ($1, 'soho', 90)",
      },
      { name: 'an event', sql: "INSERT INTO outbox (org_id, envelope) VALUES ($1, '\\x00')" },
      {
        name: 'a credential copy',
        sql: `INSERT INTO credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext)
              SELECT $1, 'cred_stolen', version, kind, label, last_four, status, key_epoch, ciphertext FROM credentials WHERE id = 'cred_a1'`,
      },
    ];
    for (const w of writes)
      it(`refuses to write ${w.name} for another org than app.org_id (WITH CHECK)`, async () => {
        await assert.rejects(
          inTenant(f.pool, ORG_A, (db) => db.query(w.sql, [ORG_B])),
          /row-level security/,
        );
      });
  });

  describe('first data key of an org', () => {
    const epoch = (orgId: string, wrapped: Buffer): NewEpoch => ({
      org_id: orgId,
      kms_key_id: 'k',
      wrapped_key: wrapped,
      scheme: 'aes',
      tier: 'soho',
      kms_endpoint: '',
      public_key: null,
    });

    it('keeps one epoch-1 key when two replicas insert theirs at once, and returns it to both', async () => {
      const keys = createKeyStore(f.pool);
      const [a, b] = [randomBytes(40), randomBytes(40)];
      const stored = await Promise.all([
        keys.insertFirstEpoch(epoch('org_race1', a), 90),
        keys.insertFirstEpoch(epoch('org_race1', b), 90),
      ]);
      assert.ok(stored[0]?.wrapped_key.equals(stored[1]?.wrapped_key ?? Buffer.alloc(0)));
      assert.ok(stored[0]?.wrapped_key.equals(a) || stored[0]?.wrapped_key.equals(b));
      const { rows } = await f.fx.admin.query(
        "SELECT count(*)::int AS n FROM vault.data_keys WHERE org_id = 'org_race1'",
      );
      assert.deepEqual(rows, [{ n: 1 }]);
    });

    it('schedules the first rotation of an org when its first key is stored', async () => {
      const { rows } = await f.fx.admin.query<{ days: number }>(
        `SELECT round(extract(epoch FROM w.rotation_due_at - k.created_at) / 86400)::int AS days
         FROM vault.org_work w JOIN vault.data_keys k USING (org_id) WHERE org_id = 'org_race1'`,
      );
      assert.deepEqual(rows, [{ days: 90 }]);
    });

    it("lets two replicas store an org's first credentials concurrently, each readable by both", async () => {
      const [r1, r2] = [f.replica({}, keyring), f.replica({}, keyring)];
      await Promise.all([
        r1.vault.put(credential('org_race2', 'cred_1', 'sk-ant-race-one')),
        r2.vault.put(credential('org_race2', 'cred_2', 'sk-ant-race-two')),
      ]);
      for (const r of [r1, r2]) {
        assert.equal((await resolved(r, 'org_race2', 'cred_1')).toString(), 'sk-ant-race-one');
        assert.equal((await resolved(r, 'org_race2', 'cred_2')).toString(), 'sk-ant-race-two');
      }
    });
  });
});
