import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCredentialVault, type NewCredential } from '../../src/domain/credential-vault.js';
import { createDataKeyCache } from '../../src/domain/data-key-cache.js';
import { open } from '../../src/domain/envelope.js';
import { createMemoryKeyring } from '../support/memory-keyring.js';
import { createMemoryStore } from '../support/memory-store.js';

const CANARY = 'sk-ant-api03-vault-canary-5e1f';
const isZero = (b: Buffer) => b.every((x) => x === 0);

/** A vault over in-memory store, keyring and cache. */
function setup(cacheOptions = { maxAgeMs: 60_000, maxUses: 1000 }) {
  const store = createMemoryStore();
  const keyring = createMemoryKeyring();
  const cache = createDataKeyCache(cacheOptions);
  const vault = createCredentialVault({ store, keyring, cache });
  return { store, keyring, cache, vault };
}

const credential = (overrides: Partial<NewCredential> = {}): NewCredential => ({
  orgId: 'org_a',
  id: 'cred_1',
  label: 'Anthropic production',
  kind: 'anthropic_api_key',
  material: Buffer.from(CANARY),
  lastFour: CANARY.slice(-4),
  expiresAt: null,
  ...overrides,
});

describe('createCredentialVault', () => {
  it('stores and resolves a credential', async () => {
    const { vault } = setup();
    const stored = await vault.put(credential());
    assert.equal(stored?.id, 'cred_1');
    assert.equal(stored?.key_epoch, 1);
    assert.ok(stored && !('ciphertext' in stored));
    const resolved = await vault.resolve('org_a', 'cred_1');
    assert.equal(resolved?.material.toString(), CANARY);
    assert.equal(resolved?.version, 1);
    assert.equal(resolved?.kind, 'anthropic_api_key');
  });

  it('creates data key epoch 1 once per org, on the first put', async () => {
    const { vault, keyring, store } = setup();
    await vault.put(credential({ id: 'cred_1' }));
    await vault.put(credential({ id: 'cred_2' }));
    await vault.put(credential({ orgId: 'org_b', id: 'cred_1' }));
    assert.equal(keyring.generateCalls, 2);
    assert.deepEqual(
      store.dataKeys.get('org_a')?.map((k) => k.epoch),
      [1],
    );
    assert.deepEqual(
      store.dataKeys.get('org_b')?.map((k) => k.epoch),
      [1],
    );
  });

  it('zeroes the material it was given, once sealed', async () => {
    const { vault } = setup();
    const c = credential();
    await vault.put(c);
    assert.ok(isZero(c.material));
  });

  it('seals with the org data key, bound to org, id and version; the stored bytes hold no plaintext', async () => {
    const { vault, keyring, store } = setup();
    await vault.put(credential());
    const row = store.credentials[0];
    const wrapped = store.dataKeys.get('org_a')?.[0]?.wrapped;
    assert.ok(row && wrapped);
    assert.equal(row.ciphertext.indexOf(Buffer.from(CANARY)), -1);
    const key = keyring.unwrapForTest('org_a', wrapped);
    assert.equal(
      open(key, row.ciphertext, { orgId: 'org_a', credentialId: 'cred_1', version: 1 }).toString(),
      CANARY,
    );
  });

  it('answers undefined for a credential id that is taken, and keeps the first', async () => {
    const { vault } = setup();
    await vault.put(credential());
    assert.equal(await vault.put(credential({ material: Buffer.from('second') })), undefined);
    assert.equal((await vault.resolve('org_a', 'cred_1'))?.material.toString(), CANARY);
  });

  it("answers undefined when resolving a credential that does not exist (or is another org's)", async () => {
    const { vault } = setup();
    await vault.put(credential());
    assert.equal(await vault.resolve('org_a', 'cred_missing'), undefined);
    assert.equal(await vault.resolve('org_b', 'cred_1'), undefined);
  });

  it('unwraps an org data key once and then serves resolves from the cache', async () => {
    const first = setup();
    await first.vault.put(credential());
    // A fresh replica: same store and keyring, empty cache.
    const cache = createDataKeyCache({ maxAgeMs: 60_000, maxUses: 1000 });
    const replica = createCredentialVault({ store: first.store, keyring: first.keyring, cache });
    for (let i = 0; i < 3; i++)
      assert.equal((await replica.resolve('org_a', 'cred_1'))?.material.toString(), CANARY);
    assert.equal(first.keyring.unwrapCalls, 1);
    assert.equal(cache.size, 1);
  });

  it('unwraps again once the cached key reaches its use bound', async () => {
    const { vault, keyring } = setup({ maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential()); // use 1 of the fresh key
    await vault.resolve('org_a', 'cred_1'); // use 2
    assert.equal(keyring.unwrapCalls, 0);
    assert.equal((await vault.resolve('org_a', 'cred_1'))?.material.toString(), CANARY);
    assert.equal(keyring.unwrapCalls, 1);
  });

  it('rejects put when the keyring fails, caching nothing and still zeroing the material', async () => {
    const { vault, keyring, store, cache } = setup();
    keyring.failing = true;
    const c = credential();
    await assert.rejects(vault.put(c), { reason: 'kms_unavailable' });
    assert.equal(cache.size, 0);
    assert.equal(store.dataKeys.size, 0);
    assert.equal(store.credentials.length, 0);
    assert.ok(isZero(c.material));
  });

  it('rejects resolve when the keyring fails, caching nothing', async () => {
    const { store, keyring } = setup();
    await createCredentialVault({
      store,
      keyring,
      cache: createDataKeyCache({ maxAgeMs: 60_000, maxUses: 1000 }),
    }).put(credential());
    const cache = createDataKeyCache({ maxAgeMs: 60_000, maxUses: 1000 });
    const replica = createCredentialVault({ store, keyring, cache });
    keyring.failing = true;
    await assert.rejects(replica.resolve('org_a', 'cred_1'), { reason: 'kms_unavailable' });
    assert.equal(cache.size, 0);
  });

  it('uses the key another replica stored first, zeroing its own fresh key', async () => {
    const { vault, keyring, store } = setup();
    const theirKey = randomBytes(32);
    const theirWrapped = keyring.wrapForTest('org_a', theirKey);
    // Between our currentDataKey (none) and our insert, another replica stores epoch 1.
    store.beforeInsertDataKey = (orgId, epoch) =>
      store.plantDataKey(orgId, { epoch, kmsKeyId: 'other', wrapped: theirWrapped });
    await vault.put(credential());
    const ours = keyring.generated[0];
    assert.ok(ours && isZero(ours), 'our fresh plaintext key must be zeroed');
    assert.equal(keyring.unwrapCalls, 1);
    assert.deepEqual(
      store.dataKeys.get('org_a')?.map((k) => k.wrapped),
      [theirWrapped],
    );
    const row = store.credentials[0];
    assert.ok(row);
    assert.equal(
      open(theirKey, row.ciphertext, {
        orgId: 'org_a',
        credentialId: 'cred_1',
        version: 1,
      }).toString(),
      CANARY,
    );
    assert.equal((await vault.resolve('org_a', 'cred_1'))?.material.toString(), CANARY);
  });

  it('fails to resolve a ciphertext copied into another org', async () => {
    const { vault, store } = setup();
    await vault.put(credential());
    await vault.put(
      credential({ orgId: 'org_b', id: 'cred_9', material: Buffer.from('b-secret') }),
    );
    const a = store.credentials.find((c) => c.org_id === 'org_a');
    assert.ok(a);
    store.credentials.push({ ...a, org_id: 'org_b', id: 'cred_stolen' });
    await assert.rejects(vault.resolve('org_b', 'cred_stolen'), /unable to authenticate/);
  });

  // BUG: credential-vault.ts holds a cached data key across `await` (take() in `unwrapped`, use
  // in seal/open after the awaits in currentKey/put/resolve), but the cache zeroes a key when a
  // concurrent take() finds it past its bounds or a concurrent put() replaces it. A concurrent
  // request can therefore zero the key between take and use: resolve then fails, and put SEALS
  // THE SECRET UNDER AN ALL-ZERO KEY (decryptable by anyone reading the row; unreadable by the
  // vault). Fix: use the key synchronously right where take()/put() returns it (e.g. a cache
  // method `withKey(id, fn)` or have `unwrapped` return a copy that the caller zeroes after use).
  it('never seals with a key a concurrent request zeroed', async () => {
    const { vault, store } = setup({ maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential({ id: 'cred_0', material: Buffer.from('first') }));
    await Promise.all([
      vault.put(credential({ id: 'cred_1' })),
      vault.put(credential({ id: 'cred_2', material: Buffer.from('other') })),
    ]);
    for (const row of store.credentials) {
      assert.throws(
        () =>
          open(Buffer.alloc(32), row.ciphertext, {
            orgId: row.org_id,
            credentialId: row.id,
            version: row.version,
          }),
        `credential ${row.id} was sealed under an all-zero key`,
      );
    }
    assert.equal((await vault.resolve('org_a', 'cred_1'))?.material.toString(), CANARY);
  });

  // BUG: same cause as above, on the read path: concurrent resolves past the use bound zero the
  // key another resolve is about to open with, so valid requests fail.
  it('resolves every one of several concurrent requests', async () => {
    const { vault } = setup({ maxAgeMs: 60_000, maxUses: 2 });
    await vault.put(credential());
    const results = await Promise.allSettled([1, 2, 3].map(() => vault.resolve('org_a', 'cred_1')));
    assert.deepEqual(
      results.map((r) =>
        r.status === 'fulfilled' ? r.value?.material.toString() : String(r.reason),
      ),
      [CANARY, CANARY, CANARY],
    );
  });
});
