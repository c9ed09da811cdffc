import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createVaultStore, type VaultStore } from '../../../src/adapters/pg/vault-store.js';
import {
  createCredentialVault,
  type CredentialVault,
} from '../../../src/domain/credential-vault.js';
import { createDataKeyCache } from '../../../src/domain/data-key-cache.js';
import { createMemoryKeyring, type MemoryKeyring } from '../../support/memory-keyring.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';
const CANARY_A = `sk-ant-api03-CANARY-A-${randomBytes(8).toString('hex')}`;
const CANARY_B = `sk-ant-api03-CANARY-B-${randomBytes(8).toString('hex')}`;

/** A vault replica: its own cache, the shared store and keyring. */
const replica = (store: VaultStore, keyring: MemoryKeyring): CredentialVault =>
  createCredentialVault({
    store,
    keyring,
    cache: createDataKeyCache({ maxAgeMs: 60_000, maxUses: 1000 }),
  });

const credential = (orgId: string, id: string, secret: string) => ({
  orgId,
  id,
  label: `${id} label`,
  kind: 'anthropic_api_key',
  material: Buffer.from(secret),
  lastFour: secret.slice(-4),
  expiresAt: null,
});

describe('vault store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: VaultStore;
  let keyring: MemoryKeyring;
  let vault: CredentialVault;
  const plaintextKeys: Buffer[] = [];

  before(async () => {
    fx = await startPgFixture(['vault']);
    pool = fx.runtimePool('vault');
    store = createVaultStore(pool);
    keyring = createMemoryKeyring();
    vault = replica(store, keyring);
    await vault.put(credential(ORG_A, 'cred_a1', CANARY_A));
    await vault.put(credential(ORG_B, 'cred_b1', CANARY_B));
    // copies of the data keys while they are live in the cache
    plaintextKeys.push(...keyring.generated.map((k) => Buffer.from(k)));
  });
  after(() => fx?.stop());

  describe('schema', () =>
    itHardensTheSchema('vault', ['credentials', 'data_keys'], () => fx, ORG_A));

  describe('at rest', () => {
    it('never stores the plaintext of a secret, nor a plaintext data key, in any column', async () => {
      const dump = await fx.admin.query(
        `SELECT 'credentials' AS t, c::text AS row, c.ciphertext AS bytes FROM vault.credentials c
         UNION ALL SELECT 'data_keys', k::text, k.wrapped_key FROM vault.data_keys k`,
      );
      assert.ok(dump.rows.length >= 4);
      const needles = [Buffer.from(CANARY_A), Buffer.from(CANARY_B), ...plaintextKeys];
      assert.equal(plaintextKeys.length, 2);
      for (const r of dump.rows as Array<{ t: string; row: string; bytes: Buffer }>) {
        for (const needle of needles) {
          assert.equal(r.bytes.indexOf(needle), -1, `${r.t} holds plaintext bytes`);
          assert.ok(!r.row.includes(needle.toString('hex')), `${r.t} holds plaintext (hex)`);
          assert.ok(!r.row.includes(needle.toString('utf8')), `${r.t} holds plaintext (text)`);
        }
      }
    });

    it('resolves what it stored, and another replica (empty cache) resolves it too', async () => {
      assert.equal((await vault.resolve(ORG_A, 'cred_a1'))?.material.toString(), CANARY_A);
      assert.equal(
        (await replica(store, keyring).resolve(ORG_B, 'cred_b1'))?.material.toString(),
        CANARY_B,
      );
    });

    it('returns metadata without the ciphertext on put', async () => {
      const stored = await vault.put(credential(ORG_A, 'cred_a2', 'sk-ant-second-1234'));
      assert.ok(stored);
      assert.equal('ciphertext' in stored, false);
      assert.deepEqual(
        [stored.id, stored.version, stored.status, stored.key_epoch, stored.last_four],
        ['cred_a2', 1, 'active', 1, '1234'],
      );
    });
  });

  describe('tenant isolation', () => {
    it('resolves nothing of another org, even by its exact id', async () => {
      assert.equal(await vault.resolve(ORG_B, 'cred_a1'), undefined);
      assert.equal(await store.metadata(ORG_B, 'cred_a1'), undefined);
      assert.deepEqual(
        (await store.list(ORG_B, '', 50)).map((c) => c.id),
        ['cred_b1'],
      );
    });

    it("shows a tenant none of another org's rows, even when it names the org", async () => {
      for (const table of ['credentials', 'data_keys']) {
        const { rows } = await inTenant(pool, ORG_A, (db) =>
          db.query(`SELECT 1 FROM ${table} WHERE org_id = $1`, [ORG_B]),
        );
        assert.deepEqual(rows, [], table);
      }
    });

    it('refuses to INSERT a data key for another org than app.org_id (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(
            "INSERT INTO data_keys (org_id, epoch, kms_key_id, wrapped_key) VALUES ($1, 9, 'k', '\\x00')",
            [ORG_B],
          ),
        ),
        /row-level security/,
      );
    });

    it('refuses to copy a credential into another org (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(
            `INSERT INTO credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext)
             SELECT $1, 'cred_stolen', version, kind, label, last_four, status, key_epoch, ciphertext FROM credentials WHERE id = 'cred_a1'`,
            [ORG_B],
          ),
        ),
        /row-level security/,
      );
    });
  });

  describe('first data key of an org', () => {
    it('keeps one epoch-1 key when two replicas insert theirs at once, and returns it to both', async () => {
      const [a, b] = [randomBytes(40), randomBytes(40)];
      const stored = await Promise.all([
        store.insertDataKey('org_race1', 1, 'k', a),
        store.insertDataKey('org_race1', 1, 'k', b),
      ]);
      assert.ok(stored[0]?.equals(stored[1] ?? Buffer.alloc(0)));
      assert.ok(stored[0]?.equals(a) || stored[0]?.equals(b));
      const { rows } = await fx.admin.query(
        "SELECT count(*)::int AS n FROM vault.data_keys WHERE org_id = 'org_race1'",
      );
      assert.deepEqual(rows, [{ n: 1 }]);
    });

    it("lets two replicas store an org's first credentials concurrently, each readable by both", async () => {
      const [r1, r2] = [replica(store, keyring), replica(store, keyring)];
      await Promise.all([
        r1.put(credential('org_race2', 'cred_1', 'sk-ant-race-one')),
        r2.put(credential('org_race2', 'cred_2', 'sk-ant-race-two')),
      ]);
      for (const r of [r1, r2]) {
        assert.equal(
          (await r.resolve('org_race2', 'cred_1'))?.material.toString(),
          'sk-ant-race-one',
        );
        assert.equal(
          (await r.resolve('org_race2', 'cred_2'))?.material.toString(),
          'sk-ant-race-two',
        );
      }
    });
  });
});
