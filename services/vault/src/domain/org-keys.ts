import { DomainError } from '@fortress/kit/errors';
import type { DataKeyCache } from './data-key-cache.js';
import type { Keyring, KeyStore } from './ports.js';
import type { EpochRow, KeyConfigRow, NewEpoch } from './records.js';
import {
  cacheBoundsFor,
  defaultConfig,
  purposeOf,
  schemeFor,
  targetOf,
  type TierBounds,
} from './tiers.js';

/** KMS refusals that mean the org's key is no longer ours to use. */
const ACCESS_LOST = new Set(['kms_access_denied', 'kms_key_disabled', 'kms_key_not_found']);

/** What org key management needs. */
export interface OrgKeysDeps {
  keys: KeyStore;
  keyring: Keyring;
  cache: DataKeyCache;
  bounds: TierBounds;
  rotationDays: number;
}

/**
 * An org's data keys: its configuration, its epochs, minting new ones through KMS, and the
 * unwrapped AES data keys of SOHO and Bank epochs — served from the cache within its bounds,
 * else unwrapped by KMS (one call at a time per epoch). Zero Trust private keys are never
 * cached here; only a session asks for them (`unwrapPrivate`).
 */
export function createOrgKeys(deps: OrgKeysDeps) {
  const { keys, keyring, cache } = deps;
  const cacheId = (orgId: string, epoch: number) => `${orgId}/${epoch}`;
  const inflight = new Map<string, Promise<unknown>>();

  const config = async (orgId: string): Promise<KeyConfigRow> =>
    (await keys.config(orgId)) ?? defaultConfig(orgId, deps.rotationDays);

  /**
   * A new data key under a configuration. For Zero Trust it is a key pair made by KMS whose
   * private key the vault never sees here: only a session's unwrap releases it.
   */
  const mint = async (
    orgId: string,
    c: KeyConfigRow,
    signal?: AbortSignal,
  ): Promise<{ epoch: NewEpoch; aesKey: Buffer | undefined }> => {
    const base = { org_id: orgId, tier: c.tier, kms_endpoint: c.kms_endpoint };
    const scheme = schemeFor(c.tier);
    if (scheme === 'p256') {
      const pair = await keyring.generatePair(orgId, targetOf(c), purposeOf(scheme), signal);
      const epoch = { ...base, scheme, kms_key_id: pair.kmsKeyId, wrapped_key: pair.wrapped };
      return { epoch: { ...epoch, public_key: pair.publicKey }, aesKey: undefined };
    }
    const fresh = await keyring.generate(orgId, targetOf(c), purposeOf(scheme), signal);
    const epoch = { ...base, scheme, kms_key_id: fresh.kmsKeyId, wrapped_key: fresh.wrapped };
    return { epoch: { ...epoch, public_key: null }, aesKey: fresh.plaintext };
  };

  /**
   * Keeps a fresh AES key in the cache when its tier allows, zeroing it otherwise; `used` says
   * whether the caller is using it now (an unwrap) or only keeping it (a new epoch).
   */
  const keep = (e: EpochRow, key: Buffer | undefined, used = false) => {
    if (!key) return;
    const bounds = cacheBoundsFor(e.tier, deps.bounds);
    if (bounds) cache.put(cacheId(e.org_id, e.epoch), key, bounds, used ? 1 : 0);
    else key.fill(0);
  };

  return {
    config,
    mint,
    keep,

    /** The org's current epoch, minting epoch 1 under its configuration on first use. */
    async current(orgId: string, signal?: AbortSignal): Promise<EpochRow> {
      const existing = await keys.currentEpoch(orgId);
      if (existing) return existing;
      const c = await config(orgId);
      const fresh = await mint(orgId, c, signal);
      const stored = await keys.insertFirstEpoch(fresh.epoch, c.rotation_days);
      if (stored.wrapped_key.equals(fresh.epoch.wrapped_key)) keep(stored, fresh.aesKey);
      else fresh.aesKey?.fill(0); // another replica won the race; its key is the one
      return stored;
    },

    /** The AES data key of an epoch, as a copy the caller must zero after use. */
    async aesKey(e: EpochRow, signal?: AbortSignal): Promise<Buffer> {
      if (e.scheme !== 'aes') throw new Error('not an aes epoch');
      const id = cacheId(e.org_id, e.epoch);
      const hit = cache.take(id);
      if (hit) return hit;
      const pending = inflight.get(id);
      if (pending) {
        await pending;
        const after = cache.take(id);
        if (after) return after;
      }
      const unwrapping = keyring
        .unwrap(e.org_id, targetOf(e), e.wrapped_key, 'vault-data-key', signal)
        .catch((err: unknown) => {
          // The customer took access away: keys cached here stop serving at once, not at
          // the end of their age bound.
          if (err instanceof DomainError && ACCESS_LOST.has(err.reason))
            cache.dropPrefix(`${e.org_id}/`);
          throw err;
        });
      const caching = unwrapping.then((key) => keep(e, Buffer.from(key), true));
      inflight.set(id, caching);
      caching
        .finally(() => {
          if (inflight.get(id) === caching) inflight.delete(id);
        })
        .catch(() => undefined);
      return unwrapping;
    },

    /** A Zero Trust epoch's private key, straight from KMS; for sessions only. */
    unwrapPrivate(e: EpochRow, signal?: AbortSignal): Promise<Buffer> {
      if (e.scheme !== 'p256') throw new Error('not a p256 epoch');
      return keyring.unwrap(e.org_id, targetOf(e), e.wrapped_key, 'vault-zt-org-key', signal);
    },

    /** Zeroes and drops every cached key of an org (access revoked, org shredded, reconfigured). */
    forget(orgId: string): void {
      cache.dropPrefix(`${orgId}/`);
    },

    /** Zeroes and drops the cached key of one epoch (retired by a re-wrap). */
    forgetEpoch(orgId: string, epoch: number): void {
      cache.drop(cacheId(orgId, epoch));
    },
  };
}

/** An org's data keys. */
export type OrgKeys = ReturnType<typeof createOrgKeys>;
