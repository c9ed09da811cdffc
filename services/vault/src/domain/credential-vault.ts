import type { VaultStore, CredentialRow } from '../adapters/pg/vault-store.js';
import type { DataKeyCache } from './data-key-cache.js';
import { open, seal } from './envelope.js';

/** How the vault reaches KMS. */
export interface Keyring {
  generate(orgId: string): Promise<{ plaintext: Buffer; wrapped: Buffer; kmsKeyId: string }>;
  unwrap(orgId: string, wrapped: Buffer): Promise<Buffer>;
}

/** A credential to store; `material` is zeroed once sealed. */
export interface NewCredential {
  orgId: string;
  id: string;
  label: string;
  kind: string;
  material: Buffer;
  lastFour: string;
  expiresAt: Date | null;
}

/** Plaintext material of a resolved credential; the caller zeroes `material` after use. */
export interface Resolved {
  kind: string;
  version: number;
  material: Buffer;
}

/**
 * Envelope encryption of credentials: each org has a data key from KMS, wrapped under the
 * org's KMS key; each secret is sealed with it (AES-256-GCM, bound to org, id and version).
 * Unwrapped data keys are reused only within the cache's bounds.
 */
export function createCredentialVault(deps: {
  store: VaultStore;
  keyring: Keyring;
  cache: DataKeyCache;
}) {
  const { store, keyring, cache } = deps;
  const cacheId = (orgId: string, epoch: number) => `${orgId}#${epoch}`;

  /** The org's data key for an epoch, as a copy the caller must zero after use. */
  const dataKey = async (orgId: string, epoch: number, wrapped: Buffer): Promise<Buffer> => {
    const cached = cache.take(cacheId(orgId, epoch));
    if (cached) return cached;
    const key = await keyring.unwrap(orgId, wrapped);
    cache.put(cacheId(orgId, epoch), Buffer.from(key));
    return key;
  };

  /** The org's current data key (a copy to zero), creating epoch 1 on first use. */
  const currentKey = async (orgId: string): Promise<{ epoch: number; key: Buffer }> => {
    const current = await store.currentDataKey(orgId);
    if (current)
      return { epoch: current.epoch, key: await dataKey(orgId, current.epoch, current.wrapped) };
    const fresh = await keyring.generate(orgId);
    const stored = await store.insertDataKey(orgId, 1, fresh.kmsKeyId, fresh.wrapped);
    if (stored.equals(fresh.wrapped)) {
      cache.put(cacheId(orgId, 1), Buffer.from(fresh.plaintext));
      return { epoch: 1, key: fresh.plaintext };
    }
    fresh.plaintext.fill(0); // another replica won the race; use its key
    return { epoch: 1, key: await dataKey(orgId, 1, stored) };
  };

  return {
    /** Seals and stores version 1 of a credential; undefined when the id is taken. */
    async put(c: NewCredential): Promise<Omit<CredentialRow, 'ciphertext'> | undefined> {
      try {
        const { epoch, key } = await currentKey(c.orgId);
        const ciphertext = seal(key, c.material, {
          orgId: c.orgId,
          credentialId: c.id,
          version: 1,
        });
        return await store.insertCredential({
          org_id: c.orgId,
          id: c.id,
          version: 1,
          kind: c.kind,
          label: c.label,
          last_four: c.lastFour,
          key_epoch: epoch,
          ciphertext,
          expires_at: c.expiresAt,
        });
      } finally {
        c.material.fill(0);
      }
    },

    /** Decrypts the active version of a credential; undefined when there is none. */
    async resolve(orgId: string, id: string): Promise<Resolved | undefined> {
      const row = await store.activeCredential(orgId, id);
      if (!row) return undefined;
      const key = await dataKey(orgId, row.key_epoch, row.wrapped_key);
      try {
        const material = open(key, row.ciphertext, {
          orgId,
          credentialId: id,
          version: row.version,
        });
        return { kind: row.kind, version: row.version, material };
      } finally {
        key.fill(0);
      }
    },
  };
}

/** The credential vault. */
export type CredentialVault = ReturnType<typeof createCredentialVault>;
