import { readFileSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import { VaultAdminService, VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { connectEventBus } from '@fortress/kit/event-bus';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createKmsKeyring } from './adapters/kms/kms-keyring.js';
import { vaultConfig } from './config.js';
import { createVaultApp } from './wiring.js';

const base = bootService('vault', vaultConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const jwk = JSON.parse(readFileSync(config.FORTRESS_DECISION_PUBLIC_KEY_FILE, 'utf8')) as JWK;
  if (jwk.d) throw new Error('FORTRESS_DECISION_PUBLIC_KEY_FILE must hold a public key only');
  const decisionKey = await importJWK(jwk, 'EdDSA');
  if (decisionKey instanceof Uint8Array)
    throw new Error('decision key must be an Ed25519 public key');
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  const keyring = createKmsKeyring({
    endpoint: config.FORTRESS_KMS_ENDPOINT,
    region: config.FORTRESS_KMS_REGION,
    serviceKeyId: config.FORTRESS_KMS_KEY_ID,
    allowedEndpoints: config.FORTRESS_KMS_ALLOWED_ENDPOINTS,
    timeoutMs: config.FORTRESS_KMS_TIMEOUT_MS,
  });
  const app = createVaultApp({
    pool,
    keyring,
    decisionKey,
    publish: (e) => bus.publish(e, config.FORTRESS_EVENT_ACK_TIMEOUT_MS),
    logger,
    settings: config,
  });
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(VaultService, app.rpc);
      router.service(VaultAdminService, app.adminRpc);
    },
    readiness: { postgres: () => pgReady(pool), nats: () => bus.ready() },
  });
  app.worker.start();
  return [
    telemetry.shutdown,
    () => pool.end(),
    () => bus.close(),
    () => keyring.close(),
    () => app.close(),
    ...served,
  ];
});
