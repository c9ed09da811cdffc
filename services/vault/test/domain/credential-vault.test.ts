import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCredentialStore } from '../../src/adapters/pg/credential-store.js';
import { createKeyStore } from '../../src/adapters/pg/key-store.js';
import { createCredentialVault } from '../../src/domain/credential-vault.js';
import { createDataKeyCache } from '../../src/domain/data-key-cache.js';
import { unwrapDekAes } from '../../src/domain/dek-wrap.js';
import { open, seal, SECRET_FORMAT } from '../../src/domain/envelope.js';
import { createOrgKeys } from '../../src/domain/org-keys.js';
import type { KeyStore } from '../../src/domain/ports.js';
import { createSessionRegistry } from '../../src/domain/sessions.js';
import { createMemoryKeyring, type MemoryKeyring } from '../support/memory-keyring.js';
import {
  credential,
  refusal,
  resolved,
  startVaultFixture,
  type VaultFixture,
} from '../support/vault-fixture.js';

const CANARY = 'sk-ant-api03-vault-canary-5e1f';
const isZero = (b: Buffer) => b.every((x) => x === 0);
let n = 0;
const freshOrg = () => `org_cv${(n += 1)}${randomBytes(3).toString('hex')}`;

describe('createCredentialVault (PostgreSQL, in-memory KMS)', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  after(() => f?.stop());

  /** A vault replica on the shared database: its own cache, the given keyring and key store. */
  function replica(
    keyring: MemoryKeyring,
    cacheBounds = { maxAgeMs: 60_000, maxUses: 1000 },
    keys: KeyStore = createKeyStore(f.pool),
  ) {
    const cache = createDataKeyCache(cacheBounds);
    const orgKeys = createOrgKeys({
      keys,
      keyring,
      cache,
      bounds: { soho: cacheBounds, bank: cacheBounds },
      rotationDays: 90,
    });
    const sessions = createSessionRegistry({
      epochs: () => Promise.resolve([]),
      unwrapPrivate: () => Promise.reject(new Error('no')),
      maxTtlMs: 1000,
      maxSessions: 1,
    });
    const vault = createCredentialVault({
      creds: createCredentialStore(f.pool, { expiryNoticeMs: 7 * 86_400_000 }),
      orgKeys,
      sessions,
      overlap: { patSeconds: 48 * 3600, otherSeconds: 3600 },
    });
    return { vault, cache, app: { vault } };
  }

  it('stores and resolves a credential, answering metadata only', async () => {
    const org = freshOrg();
    const { vault, app } = replica(createMemoryKeyring());
    const stored = await vault.put(credential(org, 'cred_1', CANARY));
    assert.ok(stored && !('ciphertext' in stored) && !('wrapped_dek' in stored));
    assert.deepEqual([stored.id, stored.version, stored.key_epoch], ['cred_1', 1, 1]);
    assert.equal((await resolved(app, org, 'cred_1')).toString(), CANARY);
  });

  it('creates data key epoch 1 once per org, on the first put', async () => {
    const [a, b] = [freshOrg(), freshOrg()];
    const keyring = createMemoryKeyring();
    const { vault } = replica(keyring);
    await vault.put(credential(a, 'cred_1', CANARY));
    await vault.put(credential(a, 'cred_2', CANARY));
    await vault.put(credential(b, 'cred_1', CANARY));
    assert.equal(keyring.generateCalls, 2);
    const { rows } = await f.fx.admin.query(
      'SELECT org_id, epoch FROM vault.data_keys WHERE org_id = ANY($1) ORDER BY org_id',
      [[a, b]],
    );
    assert.deepEqual(
      rows.map((r: { epoch: number }) => r.epoch),
      [1, 1],
    );
  });

  it('zeroes the material it was given, once sealed', async () => {
    const { vault } = replica(createMemoryKeyring());
    const c = credential(freshOrg(), 'cred_1', CANARY);
    await vault.put(c);
    assert.ok(isZero(c.material));
  });

  it('seals under a key of its own, wrapped by the org data key; no stored byte holds plaintext', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    const { vault } = replica(keyring);
    await vault.put(credential(org, 'cred_1', CANARY));
    const { rows } = await f.fx.admin.query(
      `SELECT c.ciphertext, c.wrapped_dek, k.wrapped_key FROM vault.credentials c
       JOIN vault.data_keys k USING (org_id) WHERE c.org_id = $1`,
      [org],
    );
    const row = rows[0] as { ciphertext: Buffer; wrapped_dek: Buffer; wrapped_key: Buffer };
    for (const bytes of [row.ciphertext, row.wrapped_dek, row.wrapped_key])
      assert.equal(bytes.indexOf(Buffer.from(CANARY)), -1);
    assert.equal(row.ciphertext[0], SECRET_FORMAT.current);
    const dataKey = keyring.unwrapForTest(org, row.wrapped_key);
    const dek = unwrapDekAes(dataKey, row.wrapped_dek, {
      orgId: org,
      credentialId: 'cred_1',
      version: 1,
      epoch: 1,
    });
    const b = { orgId: org, credentialId: 'cred_1', version: 1 };
    assert.equal(open(dek, row.ciphertext, b).toString(), CANARY);
    assert.throws(() => open(dataKey, row.ciphertext, b), 'the data key alone does not open it');
  });

  it('answers undefined for a credential id that is taken, and keeps the first', async () => {
    const org = freshOrg();
    const { vault, app } = replica(createMemoryKeyring());
    await vault.put(credential(org, 'cred_1', CANARY));
    assert.equal(await vault.put(credential(org, 'cred_1', 'second')), undefined);
    assert.equal((await resolved(app, org, 'cred_1')).toString(), CANARY);
  });

  it("refuses, as not found, a credential that does not exist or is another org's", async () => {
    const org = freshOrg();
    const { vault, app } = replica(createMemoryKeyring());
    await vault.put(credential(org, 'cred_1', CANARY));
    assert.equal(await refusal(app, org, 'cred_missing'), 'credential_not_found');
    assert.equal(await refusal(app, freshOrg(), 'cred_1'), 'credential_not_found');
  });

  it('unwraps an org data key once and then serves resolves from the cache', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    await replica(keyring).vault.put(credential(org, 'cred_1', CANARY));
    const fresh = replica(keyring); // another replica: empty cache
    for (let i = 0; i < 3; i++)
      assert.equal((await resolved(fresh.app, org, 'cred_1')).toString(), CANARY);
    assert.equal(keyring.unwrapCalls, 1);
    assert.equal(fresh.cache.size, 1);
  });

  it('unwraps again once the cached key reaches its use bound', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    const { vault, app } = replica(keyring, { maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential(org, 'cred_1', CANARY)); // use 1 of the fresh key
    await resolved(app, org, 'cred_1'); // use 2
    assert.equal(keyring.unwrapCalls, 0);
    assert.equal((await resolved(app, org, 'cred_1')).toString(), CANARY);
    assert.equal(keyring.unwrapCalls, 1);
  });

  it('rejects put when the keyring fails, caching and storing nothing, still zeroing the material', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    keyring.failing = true;
    const { vault, cache } = replica(keyring);
    const c = credential(org, 'cred_1', CANARY);
    await assert.rejects(vault.put(c), { reason: 'kms_unavailable' });
    assert.equal(cache.size, 0);
    const { rows } = await f.fx.admin.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM vault.data_keys WHERE org_id = $1)::int + (SELECT count(*) FROM vault.credentials WHERE org_id = $1)::int AS n',
      [org],
    );
    assert.equal(rows[0]?.n, 0);
    assert.ok(isZero(c.material));
  });

  it('rejects resolve when the keyring fails, caching nothing', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    await replica(keyring).vault.put(credential(org, 'cred_1', CANARY));
    const fresh = replica(keyring);
    keyring.failing = true;
    await assert.rejects(resolved(fresh.app, org, 'cred_1'), { reason: 'kms_unavailable' });
    assert.equal(fresh.cache.size, 0);
  });

  it('uses the key another replica stored first, zeroing its own fresh key', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    const theirKey = randomBytes(32);
    const theirs = createOrgKeys({
      keys: createKeyStore(f.pool),
      keyring,
      cache: createDataKeyCache({ maxAgeMs: 1, maxUses: 1 }),
      bounds: { soho: { maxAgeMs: 1, maxUses: 1 }, bank: { maxAgeMs: 1, maxUses: 1 } },
      rotationDays: 90,
    });
    const real = createKeyStore(f.pool);
    // Between our currentEpoch (none) and our insert, another replica stores epoch 1.
    const racing: KeyStore = {
      ...real,
      insertFirstEpoch: async (e, days) => {
        await real.insertFirstEpoch(
          { ...e, wrapped_key: keyring.wrapForTest(org, theirKey) },
          days,
        );
        return real.insertFirstEpoch(e, days);
      },
    };
    const { vault, app } = replica(keyring, undefined, racing);
    await vault.put(credential(org, 'cred_1', CANARY));
    const ours = keyring.generated.at(-1);
    assert.ok(ours && isZero(ours), 'our fresh plaintext key must be zeroed');
    const current = await theirs.current(org);
    assert.deepEqual(keyring.unwrapForTest(org, current.wrapped_key), theirKey);
    assert.equal((await resolved(app, org, 'cred_1')).toString(), CANARY);
  });

  it('refuses, as an integrity failure, a ciphertext copied into another org', async () => {
    const [a, b] = [freshOrg(), freshOrg()];
    const { vault, app } = replica(createMemoryKeyring());
    await vault.put(credential(a, 'cred_1', CANARY));
    await vault.put(credential(b, 'cred_9', 'b-secret'));
    await f.fx.admin.query(
      `INSERT INTO vault.credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext, wrapped_dek)
       SELECT $2, 'cred_stolen', version, kind, label, last_four, status, key_epoch, ciphertext, wrapped_dek
       FROM vault.credentials WHERE org_id = $1`,
      [a, b],
    );
    await assert.rejects(resolved(app, b, 'cred_stolen'), {
      reason: 'credential_integrity_failed',
    });
  });

  it('still resolves a legacy ciphertext (format 0x01, sealed under the data key itself)', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    const { vault, app } = replica(keyring);
    await vault.put(credential(org, 'cred_new', 'x'.repeat(20)));
    const { rows } = await f.fx.admin.query(
      'SELECT wrapped_key FROM vault.data_keys WHERE org_id = $1',
      [org],
    );
    const dataKey = keyring.unwrapForTest(org, (rows[0] as { wrapped_key: Buffer }).wrapped_key);
    const legacy = seal(
      dataKey,
      Buffer.from(CANARY),
      { orgId: org, credentialId: 'cred_old', version: 1 },
      SECRET_FORMAT.legacy,
    );
    await f.fx.admin.query(
      `INSERT INTO vault.credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext)
       VALUES ($1, 'cred_old', 1, 'API_KEY', 'old', '', 'active', 1, $2)`,
      [org, legacy],
    );
    assert.equal((await resolved(app, org, 'cred_old')).toString(), CANARY);
  });

  it('never seals with a key a concurrent request zeroed', async () => {
    const org = freshOrg();
    const keyring = createMemoryKeyring();
    const { vault, app } = replica(keyring, { maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential(org, 'cred_0', 'first'));
    await Promise.all([
      vault.put(credential(org, 'cred_1', CANARY)),
      vault.put(credential(org, 'cred_2', 'other')),
    ]);
    const { rows } = await f.fx.admin.query(
      'SELECT id, version, wrapped_dek FROM vault.credentials WHERE org_id = $1',
      [org],
    );
    for (const row of rows as Array<{ id: string; version: number; wrapped_dek: Buffer }>)
      assert.throws(
        () =>
          unwrapDekAes(Buffer.alloc(32), row.wrapped_dek, {
            orgId: org,
            credentialId: row.id,
            version: row.version,
            epoch: 1,
          }),
        `credential ${row.id} was wrapped under an all-zero key`,
      );
    assert.equal((await resolved(app, org, 'cred_1')).toString(), CANARY);
  });

  it('resolves every one of several concurrent requests', async () => {
    const org = freshOrg();
    const { vault, app } = replica(createMemoryKeyring(), { maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential(org, 'cred_1', CANARY));
    const results = await Promise.allSettled(
      [1, 2, 3, 4, 5].map(() => resolved(app, org, 'cred_1')),
    );
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value.toString() : String(r.reason))),
      [CANARY, CANARY, CANARY, CANARY, CANARY],
    );
  });
});
