import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import { DecryptCommand } from '@aws-sdk/client-kms';
import { contextFor } from '../../src/adapters/kms/kms-keyring.js';
import { WRAP_FORMAT } from '../../src/domain/dek-wrap.js';
import type { KeyConfigRow } from '../../src/domain/records.js';
import type { VaultApp } from '../../src/wiring.js';
import {
  credential,
  refusal,
  resolved,
  startVaultFixture,
  type VaultFixture,
} from '../support/vault-fixture.js';

const freshOrg = () => `org_zt${randomBytes(4).toString('hex')}`;
const secret = () => `sk-ant-api03-${randomBytes(12).toString('hex')}`;
const owner = (orgId: string) => ({ orgId, subjectId: 'usr_1', deviceId: 'dev_1' });

describe('Zero Trust: nothing the service can decrypt on its own', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  after(() => f?.stop());

  const decrypts = () => f.customerA.kms.calls()['Decrypt'] ?? 0;

  /** A Zero Trust org on a key in customer A's account, granted to the vault for this org. */
  async function ztOrg(app: VaultApp, orgId = freshOrg()) {
    const keyArn = await f.customerA.createKey();
    const grantId = await f.customerA.grant(keyArn, orgId);
    const config: KeyConfigRow = {
      org_id: orgId,
      tier: 'zero_trust',
      kms_key_id: keyArn,
      kms_endpoint: f.customerA.kms.url,
      grant_id: grantId,
      rotation_days: 90,
      updated_at: new Date(),
      updated_by: 'usr_admin',
    };
    await app.rotation.setConfig(config, 'usr_admin');
    return { orgId, keyArn, grantId };
  }

  it('creates the org key pair in KMS without ever seeing its private key', async () => {
    const app = f.replica();
    f.customerA.kms.resetCalls();
    await ztOrg(app);
    const calls = f.customerA.kms.calls();
    assert.equal(calls['GenerateDataKeyPairWithoutPlaintext'], 1);
    assert.equal(calls['Decrypt'], undefined, 'no decryption at creation');
    assert.equal(calls['GenerateDataKey'], undefined, 'no plaintext data key either');
  });

  it('stores a credential with the public key only: no decryption, and a key wrapped to the org', async () => {
    const app = f.replica();
    const { orgId } = await ztOrg(app);
    const before = decrypts();
    await app.vault.put(credential(orgId, 'cred_1', secret()));
    assert.equal(decrypts(), before, 'writing needed no decryption');
    const { rows } = await f.fx.admin.query<{
      scheme: string;
      public_key: Buffer;
      wrapped_dek: Buffer;
    }>(
      `SELECT k.scheme, k.public_key, c.wrapped_dek FROM vault.credentials c
       JOIN vault.data_keys k ON k.org_id = c.org_id AND k.epoch = c.key_epoch WHERE c.org_id = $1`,
      [orgId],
    );
    assert.equal(rows[0]?.scheme, 'p256');
    assert.equal(rows[0]?.public_key.length, 91, 'a P-256 public key (SPKI DER)');
    assert.equal(rows[0]?.wrapped_dek[0], WRAP_FORMAT.ec);
    assert.equal(app.cache.size, 0, 'no Zero Trust key is ever cached');
  });

  it('refuses to resolve without a live session, and never asks KMS for the key', async () => {
    const app = f.replica();
    const { orgId } = await ztOrg(app);
    await app.vault.put(credential(orgId, 'cred_1', secret()));
    const before = decrypts();
    assert.equal(await refusal(app, orgId, 'cred_1'), 'session_required');
    assert.equal(
      await refusal(app, orgId, 'cred_1', { sessionId: 'ses_forged' }),
      'session_not_found',
    );
    assert.equal(decrypts(), before);
  });

  it('opens a session with one KMS decryption, resolves with it, and nothing after it closes', async () => {
    const app = f.replica();
    const { orgId } = await ztOrg(app);
    const s = secret();
    await app.vault.put(credential(orgId, 'cred_1', s));
    const before = decrypts();
    const session = await app.sessions.open(owner(orgId), 60_000);
    assert.ok(session);
    assert.equal(decrypts(), before + 1);
    for (let i = 0; i < 5; i++)
      assert.equal((await resolved(app, orgId, 'cred_1', { sessionId: session.id })).toString(), s);
    assert.equal(decrypts(), before + 1, 'resolves inside the session need no KMS call');
    const other = { sessionId: session.id, subjectId: 'usr_2' };
    assert.equal(await refusal(app, orgId, 'cred_1', other), 'session_wrong_principal');
    assert.equal(app.sessions.close(orgId, session.id), true);
    assert.equal(
      await refusal(app, orgId, 'cred_1', { sessionId: session.id }),
      'session_not_found',
    );
    assert.equal(
      await refusal(f.replica(), orgId, 'cred_1', { sessionId: session.id }),
      'session_not_found',
    );
  });

  it('ends a session at its lifetime, zeroing its key', async () => {
    const app = f.replica({ FORTRESS_ZT_SESSION_MAX_TTL_MS: 200 });
    const { orgId } = await ztOrg(app);
    await app.vault.put(credential(orgId, 'cred_1', secret()));
    const session = await app.sessions.open(owner(orgId), 60_000);
    assert.ok(session);
    assert.ok(session.expiresAt.getTime() - Date.now() <= 200);
    (await resolved(app, orgId, 'cred_1', { sessionId: session.id })).fill(0);
    let why = '';
    for (const deadline = Date.now() + 3000; Date.now() < deadline;) {
      why = await refusal(app, orgId, 'cred_1', { sessionId: session.id }).catch(() => '');
      if (why) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(['session_expired', 'session_not_found'].includes(why), why);
    assert.equal(app.sessions.anyKey(orgId, 1), undefined);
  });

  it('opens no session once the customer revokes the grant', async () => {
    const app = f.replica();
    const { orgId, keyArn, grantId } = await ztOrg(app);
    await app.vault.put(credential(orgId, 'cred_1', secret()));
    await f.customerA.revoke(keyArn, grantId);
    await assert.rejects(app.sessions.open(owner(orgId), 60_000), { reason: 'kms_access_denied' });
    assert.equal(app.sessions.size, 0);
  });

  it('re-wraps a SOHO org onto Zero Trust without any session (wrapping needs the public key only)', async () => {
    const app = f.replica();
    const orgId = freshOrg();
    const s = secret();
    await app.vault.put(credential(orgId, 'cred_1', s));
    await ztOrg(app, orgId);
    assert.deepEqual(await app.rewrap.run(orgId, 10_000), { state: 'done', rewrapped: 1 });
    assert.deepEqual(
      (await app.keys.epochs(orgId)).map((e) => e.scheme),
      ['p256'],
    );
    assert.equal(await refusal(app, orgId, 'cred_1'), 'session_required');
    const session = await app.sessions.open(owner(orgId), 60_000);
    assert.ok(session);
    assert.equal((await resolved(app, orgId, 'cred_1', { sessionId: session.id })).toString(), s);
  });

  it('waits for a live session to re-wrap after a rotation, then finishes inside one', async () => {
    const app = f.replica();
    const { orgId } = await ztOrg(app);
    const s = secret();
    await app.vault.put(credential(orgId, 'cred_1', s));
    const rotation = await app.rotation.rotate(orgId, 'usr_admin');
    assert.deepEqual(await app.rewrap.run(orgId, 10_000), {
      state: 'awaiting_session',
      rewrapped: 0,
    });
    assert.equal((await app.rewraps.job(orgId, rotation.jobId))?.state, 'awaiting_session');
    const session = await app.sessions.open(owner(orgId), 60_000);
    assert.ok(session);
    assert.deepEqual(await app.rewrap.run(orgId, 10_000), { state: 'done', rewrapped: 1 });
    assert.deepEqual(
      (await app.keys.epochs(orgId)).map((e) => e.epoch),
      [2],
    );
    assert.equal(app.sessions.anyKey(orgId, 1), undefined, 'the retired epoch’s key was zeroed');
    assert.equal((await resolved(app, orgId, 'cred_1', { sessionId: session.id })).toString(), s);
  });

  describe('heap snapshot', () => {
    /** The bytes `length` random lowercase hex characters would be, made without a JS string. */
    const hexBytes = (length: number) =>
      Buffer.from(randomBytes(length).map((b) => (b % 16 < 10 ? 48 + (b % 16) : 87 + (b % 16))));

    /** Writes a heap snapshot of this process (which does a full GC first) and reads it. */
    async function snapshot(): Promise<Buffer> {
      const file = writeHeapSnapshot(
        join(tmpdir(), `vault-zt-${process.pid}-${Date.now()}.heapsnapshot`),
      );
      try {
        return await readFile(file);
      } finally {
        await rm(file, { force: true });
      }
    }

    it('holds the org key only as bytes during a session, and nowhere in the heap once it ends', async function () {
      this.timeout(120_000);
      const app = f.replica();
      const { orgId } = await ztOrg(app);
      const canarySecret = Buffer.concat([Buffer.from('sk-ant-canary-'), hexBytes(40)]);
      await app.vault.put(credential(orgId, 'cred_1', Buffer.from(canarySecret)));
      // The canary key: the org's private key, as only the customer (the key owner) can open it.
      const epoch = await app.keys.currentEpoch(orgId);
      assert.ok(epoch);
      const opened = await f.customerA.owner.send(
        new DecryptCommand({
          CiphertextBlob: epoch.wrapped_key,
          EncryptionContext: contextFor(orgId, 'vault-zt-org-key'),
        }),
      );
      assert.ok(opened.Plaintext);
      const canaryKey = Buffer.from(opened.Plaintext);
      opened.Plaintext.fill(0);

      const session = await app.sessions.open(owner(orgId), 60_000);
      assert.ok(session);
      const held = app.sessions.anyKey(orgId, epoch.epoch);
      assert.ok(held && held.equals(canaryKey), 'the session holds exactly the org key');
      held.fill(0);
      const material = await resolved(app, orgId, 'cred_1', { sessionId: session.id });
      assert.ok(material.equals(canarySecret));
      material.fill(0);
      const during = await snapshot();
      app.sessions.close(orgId, session.id);
      assert.equal(app.sessions.anyKey(orgId, epoch.epoch), undefined);
      // A control that must be found: a string form of another random key, alive right now.
      const control = randomBytes(32).toString('base64');
      const afterwards = await snapshot();

      // Needles are made only now, after both snapshots were written.
      const forms = (b: Buffer) => [
        b.toString('hex'),
        b.toString('base64'),
        b.toString('base64url'),
      ];
      // The PKCS#8 DER of a P-256 key holds the private scalar at bytes 36..68.
      const scalar = canaryKey.subarray(36, 68);
      const needles = [
        ...forms(canaryKey),
        ...forms(scalar),
        ...forms(canarySecret),
        canarySecret.toString('latin1'),
      ];
      assert.ok(afterwards.includes(Buffer.from(control)), 'the scan finds a string in the heap');
      for (const [name, heap] of [
        ['during the session', during],
        ['after it ended', afterwards],
      ] as const)
        for (const needle of needles)
          assert.equal(heap.indexOf(Buffer.from(needle)), -1, `key material in the heap ${name}`);
    });
  });
});
