import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient, RevokeGrantCommand } from '@aws-sdk/client-kms';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { createLogger } from '@fortress/kit/log';
import { startKmsServer, type KmsServer } from '@fortress/sandbox/kms/server';
import { grantVault } from '@fortress/harness/stack/customer-kms';
import { generateKeyPair } from 'jose';
import type pg from 'pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import { createKmsKeyring, type KmsKeyringOptions } from '../../src/adapters/kms/kms-keyring.js';
import type { CredentialVault } from '../../src/domain/credential-vault.js';
import type { Keyring } from '../../src/domain/ports.js';
import { createVaultApp, type VaultApp, type VaultSettings } from '../../src/wiring.js';

/** The vault's access key in every KMS account, and the principal customers grant to. */
export const VAULT_ACCESS_KEY = 'AKIDFORTRESSVAULT';
export const VAULT_PRINCIPAL = 'arn:aws:iam::111111111111:role/fortress-vault';
const CUSTOMER_ACCESS_KEY = 'AKIDCUSTOMER';

/** Settings fit for tests: small batches, short Bank bound, no background schedule. */
export const TEST_SETTINGS: VaultSettings = {
  FORTRESS_DATA_KEY_MAX_AGE_MS: 60_000,
  FORTRESS_DATA_KEY_MAX_USES: 100_000,
  FORTRESS_BANK_DATA_KEY_MAX_AGE_MS: 60_000,
  FORTRESS_ZT_SESSION_MAX_TTL_MS: 60_000,
  FORTRESS_ZT_MAX_SESSIONS: 100,
  FORTRESS_ROTATION_DAYS: 90,
  FORTRESS_PAT_OVERLAP_SECONDS: 48 * 3600,
  FORTRESS_CREDENTIAL_OVERLAP_SECONDS: 24 * 3600,
  FORTRESS_EXPIRY_NOTICE_MS: 7 * 24 * 3600_000,
  FORTRESS_WORKER_INTERVAL_MS: 3_600_000,
  FORTRESS_WORKER_LEASE_MS: 30_000,
  FORTRESS_REWRAP_BATCH: 200,
  FORTRESS_KMS_ALLOWED_ENDPOINTS: [],
  FORTRESS_KMS_PRINCIPAL: VAULT_PRINCIPAL,
};

/** A customer's KMS account: its endpoint and an owner's client to make keys and grants. */
export interface CustomerAccount {
  kms: KmsServer;
  owner: KMSClient;
  /** Creates a key; its ARN. */
  createKey(): Promise<string>;
  /** Grants the vault the operations it needs on a key, for one org; the grant id. */
  grant(keyArn: string, orgId: string): Promise<string>;
  revoke(keyArn: string, grantId: string): Promise<void>;
}

async function customerAccount(accountId: string): Promise<CustomerAccount> {
  const kms = await startKmsServer({
    accountId,
    ownerAccessKeyId: CUSTOMER_ACCESS_KEY,
    principals: { [VAULT_ACCESS_KEY]: VAULT_PRINCIPAL },
  });
  const owner = new KMSClient({
    region: kms.region,
    endpoint: kms.url,
    credentials: { accessKeyId: CUSTOMER_ACCESS_KEY, secretAccessKey: 'x' },
    maxAttempts: 1,
  });
  return {
    kms,
    owner,
    async createKey() {
      const { KeyMetadata } = await owner.send(new CreateKeyCommand({ Description: 'customer' }));
      assert.ok(KeyMetadata?.Arn);
      return KeyMetadata.Arn;
    },
    grant: (keyArn, orgId) => grantVault(owner, keyArn, orgId, VAULT_PRINCIPAL),
    async revoke(keyArn, grantId) {
      await owner.send(new RevokeGrantCommand({ KeyId: keyArn, GrantId: grantId }));
    },
  };
}

/** PostgreSQL, a service KMS account, two customers' KMS accounts, and vault replicas. */
export interface VaultFixture {
  fx: PgFixture;
  pool: pg.Pool;
  serviceKms: KmsServer;
  serviceKeyId: string;
  customerA: CustomerAccount;
  customerB: CustomerAccount;
  /** Every event the replicas published, in order. */
  published: EventEnvelope[];
  decisionKeys: Awaited<ReturnType<typeof generateKeyPair>>;
  /** A KMS keyring as the vault's identity, with both customer endpoints allowed. */
  keyring(overrides?: Partial<KmsKeyringOptions>): ReturnType<typeof createKmsKeyring>;
  /** A vault replica: its own caches, sessions and worker on the shared database. */
  replica(settings?: Partial<VaultSettings>, keyring?: Keyring): VaultApp;
  stop(): Promise<void>;
}

/** Starts the fixture; one per test file (`before`), stopped in `after`. */
export async function startVaultFixture(): Promise<VaultFixture> {
  const fx = await startPgFixture(['vault']);
  const serviceKms = await startKmsServer({ accountId: '111111111111' });
  const [customerA, customerB] = await Promise.all([
    customerAccount('222222222222'),
    customerAccount('333333333333'),
  ]);
  const admin = new KMSClient({
    region: serviceKms.region,
    endpoint: serviceKms.url,
    credentials: { accessKeyId: VAULT_ACCESS_KEY, secretAccessKey: 'x' },
  });
  const created = await admin.send(new CreateKeyCommand({ Description: 'service key' }));
  admin.destroy();
  const serviceKeyId = created.KeyMetadata?.KeyId ?? '';
  const pool = fx.runtimePool('vault');
  const published: EventEnvelope[] = [];
  const decisionKeys = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const logger = createLogger({ service: 'vault-test', level: 'error' });
  const apps: VaultApp[] = [];
  const keyrings: Array<{ close(): void }> = [];
  const allowed = [customerA.kms.url, customerB.kms.url];
  const keyring = (overrides: Partial<KmsKeyringOptions> = {}) => {
    const k = createKmsKeyring({
      endpoint: serviceKms.url,
      region: serviceKms.region,
      serviceKeyId,
      allowedEndpoints: allowed,
      timeoutMs: 1500,
      credentials: { accessKeyId: VAULT_ACCESS_KEY, secretAccessKey: 'x' },
      ...overrides,
    });
    keyrings.push(k);
    return k;
  };
  return {
    fx,
    pool,
    serviceKms,
    serviceKeyId,
    customerA,
    customerB,
    published,
    decisionKeys,
    keyring,
    replica(settings = {}, k) {
      const app = createVaultApp({
        pool,
        keyring: k ?? keyring(),
        decisionKey: decisionKeys.publicKey,
        publish: (e) => {
          published.push(e);
          return Promise.resolve();
        },
        logger,
        settings: { ...TEST_SETTINGS, FORTRESS_KMS_ALLOWED_ENDPOINTS: allowed, ...settings },
      });
      apps.push(app);
      return app;
    },
    async stop() {
      await Promise.all(apps.map((a) => a.close()));
      keyrings.forEach((k) => k.close());
      customerA.owner.destroy();
      customerB.owner.destroy();
      await Promise.all([serviceKms.close(), customerA.kms.close(), customerB.kms.close()]);
      await fx.stop();
    },
  };
}

/** A credential to put, with sensible defaults. */
export function credential(
  orgId: string,
  id: string,
  secret: Buffer | string,
  extra: { expiresAt?: Date | null; kind?: string } = {},
) {
  return {
    orgId,
    id,
    label: `${id} label`,
    kind: extra.kind ?? 'ANTHROPIC_KEY',
    material: Buffer.from(secret),
    lastFour: Buffer.from(secret).subarray(-4).toString('latin1'),
    expiresAt: extra.expiresAt ?? null,
    actorId: 'usr_admin',
  };
}

/** Which version, in which session, for whom (defaults: the active version, no session). */
type ResolveOptions = { version?: number; sessionId?: string; subjectId?: string };

/** One resolution through a replica's vault. */
const attempt = (app: { vault: CredentialVault }, orgId: string, id: string, o: ResolveOptions) =>
  app.vault.resolve({
    orgId,
    id,
    version: o.version ?? 0,
    sessionId: o.sessionId ?? '',
    subjectId: o.subjectId ?? 'usr_1',
  });

/** The plaintext of a successful resolution, as a Buffer (fails the test on a refusal). */
export async function resolved(
  app: { vault: CredentialVault },
  orgId: string,
  id: string,
  more: ResolveOptions = {},
): Promise<Buffer> {
  const r = await attempt(app, orgId, id, more);
  assert.ok(r.ok, `expected the credential, got ${r.ok ? '' : r.refusal}`);
  return r.value.material;
}

/** The refusal of a resolution (fails the test when it resolved). */
export async function refusal(
  app: { vault: CredentialVault },
  orgId: string,
  id: string,
  more: ResolveOptions = {},
): Promise<string> {
  const r = await attempt(app, orgId, id, more);
  if (r.ok) r.value.material.fill(0);
  assert.ok(!r.ok, 'expected a refusal, but the credential resolved');
  return r.refusal;
}
