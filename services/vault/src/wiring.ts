import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { Logger } from '@fortress/kit/log';
import type { CryptoKey, KeyObject } from 'jose';
import { createCredentialStore } from './adapters/pg/credential-store.js';
import { createKeyStore } from './adapters/pg/key-store.js';
import { createOutboxStore } from './adapters/pg/outbox-store.js';
import { createRewrapStore } from './adapters/pg/rewrap-store.js';
import { createSweepStore } from './adapters/pg/sweep-store.js';
import { createWorkStore } from './adapters/pg/work-store.js';
import type { VaultConfig } from './config.js';
import { createCredentialVault } from './domain/credential-vault.js';
import { createDataKeyCache } from './domain/data-key-cache.js';
import { createKeyRotation } from './domain/key-rotation.js';
import { createOrgKeys } from './domain/org-keys.js';
import type { Keyring } from './domain/ports.js';
import { createSessionRegistry } from './domain/sessions.js';
import { createRewrapJob } from './jobs/rewrap-job.js';
import { createWorker } from './jobs/worker.js';
import { createVaultAdminRpc } from './rpc/vault-admin-service.js';
import { createVaultRpc } from './rpc/vault-service.js';

/** The settings the vault's parts read (a subset of the service configuration). */
export type VaultSettings = Pick<
  VaultConfig,
  | 'FORTRESS_DATA_KEY_MAX_AGE_MS'
  | 'FORTRESS_DATA_KEY_MAX_USES'
  | 'FORTRESS_BANK_DATA_KEY_MAX_AGE_MS'
  | 'FORTRESS_ZT_SESSION_MAX_TTL_MS'
  | 'FORTRESS_ZT_MAX_SESSIONS'
  | 'FORTRESS_ROTATION_DAYS'
  | 'FORTRESS_PAT_OVERLAP_SECONDS'
  | 'FORTRESS_CREDENTIAL_OVERLAP_SECONDS'
  | 'FORTRESS_EXPIRY_NOTICE_MS'
  | 'FORTRESS_WORKER_INTERVAL_MS'
  | 'FORTRESS_WORKER_LEASE_MS'
  | 'FORTRESS_REWRAP_BATCH'
  | 'FORTRESS_KMS_ALLOWED_ENDPOINTS'
  | 'FORTRESS_KMS_PRINCIPAL'
>;

/** What the vault is built from. */
export interface VaultParts {
  pool: pg.Pool;
  keyring: Keyring;
  decisionKey: CryptoKey | KeyObject;
  publish: (envelope: EventEnvelope) => Promise<void>;
  logger: Logger;
  settings: VaultSettings;
}

/**
 * Builds the vault from its parts: stores, caches, sessions, the domain, the background worker
 * and the RPC handlers. The service's main and in-process tests share this wiring.
 */
export function createVaultApp(parts: VaultParts) {
  const { pool, settings: s } = parts;
  const keys = createKeyStore(pool);
  const creds = createCredentialStore(pool, { expiryNoticeMs: s.FORTRESS_EXPIRY_NOTICE_MS });
  const rewraps = createRewrapStore(pool);
  const cache = createDataKeyCache({
    maxAgeMs: s.FORTRESS_DATA_KEY_MAX_AGE_MS,
    maxUses: s.FORTRESS_DATA_KEY_MAX_USES,
  });
  const orgKeys = createOrgKeys({
    keys,
    keyring: parts.keyring,
    cache,
    rotationDays: s.FORTRESS_ROTATION_DAYS,
    bounds: {
      soho: { maxAgeMs: s.FORTRESS_DATA_KEY_MAX_AGE_MS, maxUses: s.FORTRESS_DATA_KEY_MAX_USES },
      bank: {
        maxAgeMs: Math.min(s.FORTRESS_BANK_DATA_KEY_MAX_AGE_MS, s.FORTRESS_DATA_KEY_MAX_AGE_MS),
        maxUses: s.FORTRESS_DATA_KEY_MAX_USES,
      },
    },
  });
  const sessions = createSessionRegistry({
    epochs: (orgId) => keys.epochs(orgId),
    unwrapPrivate: (e, signal) => orgKeys.unwrapPrivate(e, signal),
    maxTtlMs: s.FORTRESS_ZT_SESSION_MAX_TTL_MS,
    maxSessions: s.FORTRESS_ZT_MAX_SESSIONS,
  });
  const vault = createCredentialVault({
    creds,
    orgKeys,
    sessions,
    overlap: {
      patSeconds: s.FORTRESS_PAT_OVERLAP_SECONDS,
      otherSeconds: s.FORTRESS_CREDENTIAL_OVERLAP_SECONDS,
    },
  });
  const rotation = createKeyRotation({ keys, orgKeys });
  const rewrap = createRewrapJob({
    keys,
    store: rewraps,
    orgKeys,
    sessions,
    batchSize: s.FORTRESS_REWRAP_BATCH,
  });
  const worker = createWorker({
    work: createWorkStore(pool),
    outbox: createOutboxStore(pool),
    sweeps: createSweepStore(pool, { expiryNoticeMs: s.FORTRESS_EXPIRY_NOTICE_MS }),
    rotation,
    rewrap,
    publish: parts.publish,
    logger: parts.logger,
    owner: `vault-${process.pid}-${randomBytes(4).toString('hex')}`,
    intervalMs: s.FORTRESS_WORKER_INTERVAL_MS,
    leaseMs: s.FORTRESS_WORKER_LEASE_MS,
    sessionWaitMs: s.FORTRESS_WORKER_INTERVAL_MS * 12,
  });
  const onChange = (orgId: string) => void worker.kick(orgId);
  const rpc = createVaultRpc({
    vault,
    sessions,
    orgKeys,
    decisionKey: parts.decisionKey,
    sessionTtlMs: s.FORTRESS_ZT_SESSION_MAX_TTL_MS,
    onSessionOpened: onChange,
  });
  const adminRpc = createVaultAdminRpc({
    vault,
    creds,
    keys,
    orgKeys,
    rotation,
    rewraps,
    allowedEndpoints: s.FORTRESS_KMS_ALLOWED_ENDPOINTS,
    granteePrincipal: s.FORTRESS_KMS_PRINCIPAL,
    defaultRotationDays: s.FORTRESS_ROTATION_DAYS,
    onChange,
  });
  return {
    keys,
    creds,
    rewraps,
    cache,
    orgKeys,
    sessions,
    vault,
    rotation,
    rewrap,
    worker,
    rpc,
    adminRpc,
    /** Stops background work and zeroes every key held in memory. */
    async close(): Promise<void> {
      await worker.stop();
      sessions.clear();
      cache.clear();
    },
  };
}

/** The wired vault. */
export type VaultApp = ReturnType<typeof createVaultApp>;
