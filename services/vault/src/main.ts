import { readFileSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import { VaultAdminService, VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createKmsKeyring } from './adapters/kms/kms-keyring.js';
import { createVaultStore } from './adapters/pg/vault-store.js';
import { vaultConfig } from './config.js';
import { createCredentialVault } from './domain/credential-vault.js';
import { createDataKeyCache } from './domain/data-key-cache.js';
import { createVaultAdminRpc } from './rpc/vault-admin-service.js';
import { createVaultRpc } from './rpc/vault-service.js';

const base = bootService('vault', vaultConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const jwk = JSON.parse(readFileSync(config.FORTRESS_DECISION_PUBLIC_KEY_FILE, 'utf8')) as JWK;
  if (jwk.d) throw new Error('FORTRESS_DECISION_PUBLIC_KEY_FILE must hold a public key only');
  const decisionKey = await importJWK(jwk, 'EdDSA');
  if (decisionKey instanceof Uint8Array)
    throw new Error('decision key must be an Ed25519 public key');
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createVaultStore(pool);
  const keyring = createKmsKeyring({
    endpoint: config.FORTRESS_KMS_ENDPOINT,
    region: config.FORTRESS_KMS_REGION,
    keyId: config.FORTRESS_KMS_KEY_ID,
    timeoutMs: config.FORTRESS_KMS_TIMEOUT_MS,
  });
  const cache = createDataKeyCache({
    maxAgeMs: config.FORTRESS_DATA_KEY_MAX_AGE_MS,
    maxUses: config.FORTRESS_DATA_KEY_MAX_USES,
  });
  const vault = createCredentialVault({ store, keyring, cache });
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(VaultService, createVaultRpc({ vault, decisionKey }));
      router.service(VaultAdminService, createVaultAdminRpc({ vault, store }));
    },
    readiness: { postgres: () => pgReady(pool) },
  });
  return [
    telemetry.shutdown,
    () => pool.end(),
    () => keyring.close(),
    () => cache.clear(),
    ...served,
  ];
});
