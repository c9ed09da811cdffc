import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DecryptCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { contextFor } from '../../src/adapters/kms/kms-keyring.js';
import type { KeyConfigRow, TierName } from '../../src/domain/records.js';
import type { VaultApp } from '../../src/wiring.js';
import {
  credential,
  resolved,
  startVaultFixture,
  VAULT_ACCESS_KEY,
  type CustomerAccount,
  type VaultFixture,
} from '../support/vault-fixture.js';

let n = 0;
const freshOrg = (p: string) => `org_${p}${(n += 1)}${randomBytes(3).toString('hex')}`;
const secret = () => `sk-ant-api03-${randomBytes(12).toString('hex')}`;

/** Polls until `probe` answers something, or fails after `ms` (no sleeps in assertions). */
async function eventually<T>(probe: () => Promise<T | undefined>, what: string, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const config = (orgId: string, tier: TierName, keyArn: string, endpoint: string): KeyConfigRow => ({
  org_id: orgId,
  tier,
  kms_key_id: keyArn,
  kms_endpoint: endpoint,
  grant_id: '',
  rotation_days: 90,
  updated_at: new Date(),
  updated_by: 'usr_admin',
});

describe('trust tiers through KMS (PostgreSQL, local KMS endpoints)', function () {
  this.timeout(60_000);
  let f: VaultFixture;
  before(async () => {
    f = await startVaultFixture();
  });
  after(() => f?.stop());

  /** An org of a tier: Bank on a key of its own in a customer's account, with a grant. */
  async function bankOrg(app: VaultApp, customer: CustomerAccount) {
    const orgId = freshOrg('bank');
    const keyArn = await customer.createKey();
    const grantId = await customer.grant(keyArn, orgId);
    await app.rotation.setConfig(config(orgId, 'bank', keyArn, customer.kms.url), 'usr_admin');
    return { orgId, keyArn, grantId };
  }

  describe('SOHO', () => {
    it('wraps the org data key under the service key, with the org in the encryption context', async () => {
      const app = f.replica();
      const org = freshOrg('soho');
      const s = secret();
      await app.vault.put(credential(org, 'cred_1', s));
      assert.equal((await resolved(f.replica(), org, 'cred_1')).toString(), s);
      const epoch = await app.keys.currentEpoch(org);
      assert.ok(epoch);
      assert.match(epoch.kms_key_id, new RegExp(`:111111111111:key/${f.serviceKeyId}$`));
      const kms = new KMSClient({
        region: 'us-east-1',
        endpoint: f.serviceKms.url,
        credentials: { accessKeyId: VAULT_ACCESS_KEY, secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      try {
        const changed = [
          { name: 'another org', ctx: contextFor('org_other', 'vault-data-key') },
          { name: 'another purpose', ctx: contextFor(org, 'vault-zt-org-key') },
          { name: 'no context', ctx: {} },
        ];
        for (const c of changed)
          await assert.rejects(
            kms.send(
              new DecryptCommand({ CiphertextBlob: epoch.wrapped_key, EncryptionContext: c.ctx }),
            ),
            { name: 'InvalidCiphertextException' },
            c.name,
          );
      } finally {
        kms.destroy();
      }
    });

    it("fails closed when an org's wrapped data key is replaced by another org's", async () => {
      const app = f.replica();
      const [a, b] = [freshOrg('soho'), freshOrg('soho')];
      await app.vault.put(credential(a, 'cred_1', secret()));
      await app.vault.put(credential(b, 'cred_1', secret()));
      await f.fx.admin.query(
        `UPDATE vault.data_keys SET wrapped_key = (SELECT wrapped_key FROM vault.data_keys WHERE org_id = $1)
         WHERE org_id = $2`,
        [a, b],
      );
      await assert.rejects(resolved(f.replica(), b, 'cred_1'), {
        reason: 'kms_ciphertext_invalid',
      });
    });
  });

  describe('moved ciphertexts', () => {
    const moves = [
      {
        name: 'another row of the same org (swapped secrets)',
        sql: `UPDATE vault.credentials c SET ciphertext = o.ciphertext, wrapped_dek = o.wrapped_dek
              FROM vault.credentials o WHERE c.org_id = $1 AND o.org_id = $1 AND c.id = 'cred_1' AND o.id = 'cred_2'`,
      },
      {
        name: 'another credential id',
        sql: `UPDATE vault.credentials SET ciphertext = (SELECT ciphertext FROM vault.credentials WHERE org_id = $1 AND id = 'cred_2'),
              wrapped_dek = (SELECT wrapped_dek FROM vault.credentials WHERE org_id = $1 AND id = 'cred_2')
              WHERE org_id = $1 AND id = 'cred_1'`,
      },
      {
        name: 'another version',
        sql: `INSERT INTO vault.credentials (org_id, id, version, kind, label, last_four, status, key_epoch, ciphertext, wrapped_dek)
              SELECT org_id, id, 2, kind, label, last_four, 'active', key_epoch, ciphertext, wrapped_dek
              FROM vault.credentials WHERE org_id = $1 AND id = 'cred_1'`,
      },
      {
        name: 'a key that is not its own (the secret stays, the wrapped key is another)',
        sql: `UPDATE vault.credentials SET wrapped_dek = (SELECT wrapped_dek FROM vault.credentials WHERE org_id = $1 AND id = 'cred_2')
              WHERE org_id = $1 AND id = 'cred_1'`,
      },
    ];
    for (const m of moves) {
      it(`refuses a ciphertext moved to ${m.name}`, async () => {
        const app = f.replica();
        const org = freshOrg('mv');
        await app.vault.put(credential(org, 'cred_1', secret()));
        await app.vault.put(credential(org, 'cred_2', secret()));
        await f.fx.admin.query(m.sql, [org]);
        await assert.rejects(resolved(app, org, 'cred_1'), {
          reason: 'credential_integrity_failed',
        });
      });
    }
  });

  describe('Bank', () => {
    it("seals under a data key from the customer's own KMS account, reached through a grant", async () => {
      const app = f.replica();
      const { orgId, keyArn } = await bankOrg(app, f.customerA);
      const s = secret();
      const before = f.customerA.kms.calls()['GenerateDataKey'] ?? 0;
      await app.vault.put(credential(orgId, 'cred_1', s));
      assert.equal((await resolved(f.replica(), orgId, 'cred_1')).toString(), s);
      const epoch = await app.keys.currentEpoch(orgId);
      assert.equal(epoch?.kms_key_id, keyArn);
      assert.equal(epoch.tier, 'bank');
      assert.match(keyArn, /:222222222222:/);
      assert.equal(f.customerA.kms.calls()['GenerateDataKey'], before, 'minted at SetKeyConfig');
    });

    it('saves no configuration when the customer has not granted its key', async () => {
      const app = f.replica();
      const orgId = freshOrg('bank');
      const keyArn = await f.customerA.createKey();
      await assert.rejects(
        app.rotation.setConfig(config(orgId, 'bank', keyArn, f.customerA.kms.url), 'usr_admin'),
        { reason: 'kms_access_denied' },
      );
      assert.equal(await app.keys.config(orgId), undefined);
      assert.equal(await app.keys.currentEpoch(orgId), undefined);
    });

    it("cannot use one org's grant for another org (the grant is bound to the org's context)", async () => {
      const app = f.replica();
      const { keyArn } = await bankOrg(app, f.customerA);
      const intruder = freshOrg('bank');
      await assert.rejects(
        app.rotation.setConfig(config(intruder, 'bank', keyArn, f.customerA.kms.url), 'usr_admin'),
        { reason: 'kms_access_denied' },
      );
    });

    it("keeps two customers' accounts apart: A's key cannot open B's data", async () => {
      const app = f.replica();
      const a = await bankOrg(app, f.customerA);
      const b = await bankOrg(app, f.customerB);
      await app.vault.put(credential(a.orgId, 'cred_1', secret()));
      await app.vault.put(credential(b.orgId, 'cred_1', secret()));
      // B's credential row and B's wrapped data key, planted in A: A's KMS cannot open B's blob.
      await f.fx.admin.query(
        `UPDATE vault.data_keys SET wrapped_key = (SELECT wrapped_key FROM vault.data_keys WHERE org_id = $2 ORDER BY epoch DESC LIMIT 1)
         WHERE org_id = $1`,
        [a.orgId, b.orgId],
      );
      await assert.rejects(resolved(f.replica(), a.orgId, 'cred_1'), {
        reason: 'kms_ciphertext_invalid',
      });
      // B's ciphertext and wrapped key copied into A under A's own data key: integrity fails.
      const c = f.replica();
      const other = await bankOrg(c, f.customerA);
      await c.vault.put(credential(other.orgId, 'cred_1', secret()));
      await f.fx.admin.query(
        `UPDATE vault.credentials SET ciphertext = b.ciphertext, wrapped_dek = b.wrapped_dek
         FROM (SELECT ciphertext, wrapped_dek FROM vault.credentials WHERE org_id = $2) b
         WHERE org_id = $1 AND id = 'cred_1'`,
        [other.orgId, b.orgId],
      );
      await assert.rejects(resolved(c, other.orgId, 'cred_1'), {
        reason: 'credential_integrity_failed',
      });
    });

    it('stops decrypting within the Bank cache bound once the grant is revoked, and stays stopped', async () => {
      const BOUND_MS = 400;
      const app = f.replica({ FORTRESS_BANK_DATA_KEY_MAX_AGE_MS: BOUND_MS });
      const { orgId, keyArn, grantId } = await bankOrg(app, f.customerA);
      await app.vault.put(credential(orgId, 'cred_1', secret()));
      await resolved(app, orgId, 'cred_1'); // warm: the key is cached
      await f.customerA.revoke(keyArn, grantId);
      const revokedAt = Date.now();
      const reason = await eventually(
        async () => {
          try {
            (await resolved(app, orgId, 'cred_1')).fill(0);
            return undefined;
          } catch (err) {
            return (err as { reason?: string }).reason;
          }
        },
        'the revoked grant to take effect',
        5000,
      );
      const took = Date.now() - revokedAt;
      assert.equal(reason, 'kms_access_denied');
      assert.ok(took <= BOUND_MS + 250, `took ${took} ms, bound ${BOUND_MS} ms`);
      for (let i = 0; i < 5; i++)
        await assert.rejects(resolved(app, orgId, 'cred_1'), { reason: 'kms_access_denied' });
      await assert.rejects(resolved(f.replica(), orgId, 'cred_1'), { reason: 'kms_access_denied' });
      assert.equal(app.cache.size, 0, 'the refusal dropped every cached key of the org');
    });

    it('stops decrypting once the customer disables the key', async () => {
      const app = f.replica({ FORTRESS_BANK_DATA_KEY_MAX_AGE_MS: 1 });
      const { orgId, keyArn } = await bankOrg(app, f.customerA);
      await app.vault.put(credential(orgId, 'cred_1', secret()));
      await f.customerA.owner.send(new DisableKeyCommand({ KeyId: keyArn }));
      const reason = await eventually(
        () =>
          resolved(app, orgId, 'cred_1').then(
            (m) => void m.fill(0),
            (err: { reason?: string }) => err.reason,
          ),
        'the disabled key to take effect',
      );
      assert.equal(reason, 'kms_key_disabled');
    });

    it('moves a SOHO org onto its customer key: every credential re-wrapped, the SOHO key shredded', async () => {
      const app = f.replica();
      const orgId = freshOrg('move');
      const secrets = [secret(), secret(), secret()];
      for (const [i, s] of secrets.entries())
        await app.vault.put(credential(orgId, `cred_${i}`, s));
      const keyArn = await f.customerB.createKey();
      await f.customerB.grant(keyArn, orgId);
      const r = await app.rotation.setConfig(
        config(orgId, 'bank', keyArn, f.customerB.kms.url),
        'usr_admin',
      );
      assert.equal(r?.epoch, 2);
      assert.deepEqual(await app.rewrap.run(orgId, 10_000), { state: 'done', rewrapped: 3 });
      const epochs = await app.keys.epochs(orgId);
      assert.deepEqual(
        epochs.map((e) => [e.epoch, e.tier, e.kms_key_id]),
        [[2, 'bank', keyArn]],
      );
      for (const [i, s] of secrets.entries())
        assert.equal((await resolved(f.replica(), orgId, `cred_${i}`)).toString(), s);
    });
  });

  it('refuses to call a KMS endpoint that is not allowed', async () => {
    const app = f.replica();
    const orgId = freshOrg('ep');
    await assert.rejects(
      app.rotation.setConfig(
        config(orgId, 'bank', 'arn:aws:kms:us-east-1:1:key/x', 'http://127.0.0.1:9'),
        'u',
      ),
      { reason: 'kms_endpoint_not_allowed' },
    );
  });
});
