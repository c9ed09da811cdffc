import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FaultInput } from '@fortress/sandbox/kms/faults';
import {
  credential,
  resolved,
  startVaultFixture,
  type VaultFixture,
} from '../support/vault-fixture.js';

const secret = () => `sk-ant-api03-${randomBytes(12).toString('hex')}`;
let n = 0;
const freshOrg = () => `org_fault${(n += 1)}${randomBytes(3).toString('hex')}`;

/** The stable reason a rejected resolve carries, and the error itself for inspection. */
async function failure(p: Promise<Buffer>): Promise<{ reason: string; message: string }> {
  try {
    (await p).fill(0);
  } catch (err) {
    const e = err as { reason?: string; message?: string };
    return { reason: e.reason ?? 'none', message: e.message ?? '' };
  }
  throw new Error('expected the resolve to fail closed, but it returned the credential');
}

describe('KMS down, throttled or slow: resolve fails closed', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  afterEach(() => f.serviceKms.faults.reset());
  after(() => f?.stop());

  const TIMEOUT_MS = 300;
  const faults: Array<{ name: string; fault: FaultInput; reason: string }> = [
    { name: 'down (connection reset)', fault: { mode: 'down' }, reason: 'kms_unavailable' },
    { name: 'unavailable (503)', fault: { mode: 'unavailable' }, reason: 'kms_unavailable' },
    { name: 'throttling', fault: { mode: 'throttle' }, reason: 'kms_throttled' },
    { name: 'slower than the deadline', fault: { latencyMs: 5_000 }, reason: 'kms_timeout' },
  ];
  for (const c of faults) {
    it(`refuses with ${c.reason} when KMS is ${c.name}, caching nothing, and recovers after`, async () => {
      const org = freshOrg();
      const s = secret();
      await f.replica().vault.put(credential(org, 'cred_1', s));
      const cold = f.replica({}, f.keyring({ timeoutMs: TIMEOUT_MS }));
      f.serviceKms.faults.set({ ...c.fault, operations: ['Decrypt'] });
      const started = Date.now();
      const failed = await failure(resolved(cold, org, 'cred_1'));
      assert.equal(failed.reason, c.reason);
      assert.ok(Date.now() - started < TIMEOUT_MS + 500, 'within the deadline');
      assert.ok(!failed.message.includes(s), 'no secret in the error');
      assert.doesNotMatch(failed.message, /arn:|111111111111|key\//, 'no key ids in the error');
      assert.equal(cold.cache.size, 0);
      f.serviceKms.faults.reset();
      assert.equal((await resolved(cold, org, 'cred_1')).toString(), s);
    });
  }

  it('serves a cached key only within its age bound while KMS is down, then fails closed for good', async () => {
    const AGE_MS = 300;
    const org = freshOrg();
    const app = f.replica(
      { FORTRESS_DATA_KEY_MAX_AGE_MS: AGE_MS },
      f.keyring({ timeoutMs: TIMEOUT_MS }),
    );
    await app.vault.put(credential(org, 'cred_1', secret()));
    (await resolved(app, org, 'cred_1')).fill(0);
    f.serviceKms.faults.set({ mode: 'down' });
    const cachedAt = Date.now();
    const outcomes: string[] = [];
    for (;;) {
      const r = await resolved(app, org, 'cred_1').then(
        (m) => (m.fill(0), 'ok'),
        (err: { reason?: string }) => err.reason ?? 'error',
      );
      outcomes.push(r);
      if (r !== 'ok') break;
      assert.ok(Date.now() - cachedAt < AGE_MS + 100, 'a cached key served past its age bound');
    }
    assert.equal(outcomes.at(-1), 'kms_unavailable');
    assert.ok(outcomes.length > 1, 'the cache served while within its bound');
    for (let i = 0; i < 3; i++)
      assert.equal((await failure(resolved(app, org, 'cred_1'))).reason, 'kms_unavailable');
  });

  it('stores nothing when KMS fails on the first put of an org (no key, no plaintext fallback)', async () => {
    const org = freshOrg();
    f.serviceKms.faults.set({ mode: 'unavailable', operations: ['GenerateDataKey'] });
    const c = credential(org, 'cred_1', secret());
    await assert.rejects(f.replica().vault.put(c), { reason: 'kms_unavailable' });
    assert.ok(c.material.every((b) => b === 0));
    const { rows } = await f.fx.admin.query(
      'SELECT (SELECT count(*) FROM vault.credentials WHERE org_id = $1)::int AS c, (SELECT count(*) FROM vault.data_keys WHERE org_id = $1)::int AS k',
      [org],
    );
    assert.deepEqual(rows, [{ c: 0, k: 0 }]);
  });

  it('asks KMS once for many concurrent cold resolves, and all of them fail together when it fails', async () => {
    const org = freshOrg();
    await f.replica().vault.put(credential(org, 'cred_1', secret()));
    const cold = f.replica({}, f.keyring({ timeoutMs: TIMEOUT_MS, maxAttempts: 1 }));
    f.serviceKms.resetCalls();
    // Slow enough that every resolve arrives while the first unwrap is still out.
    f.serviceKms.faults.set({ mode: 'unavailable', latencyMs: 150, operations: ['Decrypt'] });
    const results = await Promise.all(
      Array.from({ length: 8 }, () => failure(resolved(cold, org, 'cred_1'))),
    );
    assert.deepEqual(new Set(results.map((r) => r.reason)), new Set(['kms_unavailable']));
    assert.equal(f.serviceKms.calls()['Decrypt'], 1);
  });
});
