import { openCredential, sealCredential, type Sealed } from './credential-crypto.js';
import {
  missingVersion,
  overlapSeconds,
  servable,
  type VersionRefusal,
} from './credential-versions.js';
import type { SecretBinding } from './envelope.js';
import { changeEvent, credentialFacts } from './events.js';
import type { OrgKeys } from './org-keys.js';
import { StaleEpochError, type CredentialStore, type RotateOutcome } from './ports.js';
import type { CredentialMeta, EpochRow, NewCredentialRow } from './records.js';
import type { SessionRefusal, SessionRegistry } from './sessions.js';

/** A credential to store; `material` is zeroed once sealed. */
export interface NewCredential {
  orgId: string;
  id: string;
  label: string;
  kind: string;
  material: Buffer;
  lastFour: string;
  expiresAt: Date | null;
  actorId: string;
}

/** A new version of a credential; `material` is zeroed once sealed. */
export interface CredentialRotation {
  orgId: string;
  id: string;
  material: Buffer;
  lastFour: string;
  /** 0 for the default of the credential's kind. */
  overlapSeconds: number;
  /** When the new version expires, if it does. */
  expiresAt: Date | null;
  actorId: string;
}

/** Which credential version to resolve, and the session and subject asking. */
export interface ResolveRequest {
  orgId: string;
  id: string;
  /** 0 for the active version. */
  version: number;
  sessionId: string;
  subjectId: string;
}

/** Plaintext of a resolved credential; the caller zeroes `material` after use. */
export interface Resolved {
  kind: string;
  version: number;
  material: Buffer;
}

/** A resolution: the plaintext, or why not (a deny is a result). */
export type ResolveResult =
  { ok: true; value: Resolved } | { ok: false; refusal: VersionRefusal | SessionRefusal };

/** What the credential vault needs. */
export interface CredentialVaultDeps {
  creds: CredentialStore;
  orgKeys: OrgKeys;
  sessions: SessionRegistry;
  overlap: { patSeconds: number; otherSeconds: number };
  now?: () => Date;
}

/**
 * Envelope encryption of credentials. Each version has its own random key; that key is
 * wrapped under the org's current data key epoch (AES for SOHO and Bank, the org's P-256
 * public key for Zero Trust), and the epoch's data key is itself wrapped by the org's KMS key.
 * Only wrapped keys and ciphertexts are stored; plaintext lives in Buffers that are zeroed.
 */
export function createCredentialVault(deps: CredentialVaultDeps) {
  const { creds, orgKeys, sessions } = deps;
  const now = deps.now ?? (() => new Date());

  const sealFor = async (
    epoch: EpochRow,
    material: Buffer,
    b: SecretBinding,
    signal?: AbortSignal,
  ): Promise<Sealed> => {
    if (epoch.scheme === 'p256') return sealCredential(epoch, undefined, material, b);
    const key = await orgKeys.aesKey(epoch, signal);
    try {
      return sealCredential(epoch, key, material, b);
    } finally {
      key.fill(0);
    }
  };

  /** Seals under the current epoch and stores; seals again if a re-wrap retired the epoch. */
  const sealAndStore = async <T>(
    orgId: string,
    b: SecretBinding,
    material: Buffer,
    store: (epoch: EpochRow, sealed: Sealed) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> => {
    for (let attempt = 0; ; attempt++) {
      const epoch = await orgKeys.current(orgId, signal);
      const sealed = await sealFor(epoch, material, b, signal);
      try {
        return await store(epoch, sealed);
      } catch (err) {
        if (!(err instanceof StaleEpochError) || attempt >= 2) throw err;
      }
    }
  };

  return {
    /** Seals and stores version 1 of a credential; undefined when the id is taken. */
    async put(c: NewCredential, signal?: AbortSignal): Promise<CredentialMeta | undefined> {
      try {
        const b = { orgId: c.orgId, credentialId: c.id, version: 1 };
        return await sealAndStore(
          c.orgId,
          b,
          c.material,
          (epoch, sealed) => {
            const row: NewCredentialRow = {
              org_id: c.orgId,
              id: c.id,
              version: 1,
              kind: c.kind,
              label: c.label,
              last_four: c.lastFour,
              key_epoch: epoch.epoch,
              ciphertext: sealed.ciphertext,
              wrapped_dek: sealed.wrappedDek,
              expires_at: c.expiresAt,
            };
            const after = credentialFacts({
              ...row,
              status: 'active',
              created_at: now(),
              rotated_at: null,
              overlap_until: null,
            });
            const event = changeEvent({
              orgId: c.orgId,
              actorId: c.actorId,
              entityType: 'credential',
              entityId: c.id,
              operation: 'create',
              after,
            });
            return creds.insertCredential(row, [event]);
          },
          signal,
        );
      } finally {
        c.material.fill(0);
      }
    },

    /**
     * Stores a new active version; the previous one keeps serving until its overlap window
     * ends. Retries when another rotation of the same credential got in first.
     */
    async rotate(r: CredentialRotation, signal?: AbortSignal): Promise<RotateOutcome> {
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          const current = await creds.metadata(r.orgId, r.id);
          if (!current) return { ok: false, why: 'not_found' };
          const b = { orgId: r.orgId, credentialId: r.id, version: current.version + 1 };
          const seconds = overlapSeconds(r.overlapSeconds, current.kind, deps.overlap);
          const overlapUntil = new Date(now().getTime() + seconds * 1000);
          const outcome = await sealAndStore(
            r.orgId,
            b,
            r.material,
            (epoch, sealed) => {
              const row: NewCredentialRow = {
                ...current,
                version: b.version,
                last_four: r.lastFour,
                expires_at: r.expiresAt,
                key_epoch: epoch.epoch,
                ciphertext: sealed.ciphertext,
                wrapped_dek: sealed.wrappedDek,
              };
              const event = changeEvent({
                orgId: r.orgId,
                actorId: r.actorId,
                entityType: 'credential',
                entityId: r.id,
                operation: 'rotate',
                before: { ...credentialFacts(current), overlap_until: overlapUntil.toISOString() },
                after: credentialFacts({ ...current, ...row, status: 'active', rotated_at: now() }),
              });
              return creds.rotateCredential(row, overlapUntil, [event]);
            },
            signal,
          );
          if (outcome.ok || outcome.why === 'not_found') return outcome;
        }
        return { ok: false, why: 'version_moved' };
      } finally {
        r.material.fill(0);
      }
    },

    /** Decrypts a credential version, or says why it may not be served. */
    async resolve(req: ResolveRequest, signal?: AbortSignal): Promise<ResolveResult> {
      const { row, newestVersion } = await creds.forResolve(req.orgId, req.id, req.version);
      if (!row) return { ok: false, refusal: missingVersion(req.version, newestVersion) };
      const refusal = servable(row, now());
      if (refusal) return { ok: false, refusal };
      const b = { orgId: req.orgId, credentialId: req.id, version: row.version };
      const zeroTrust = row.org_tier === 'zero_trust' || row.epoch.scheme === 'p256';
      if (zeroTrust) {
        const why = sessions.check(req.sessionId, req.orgId, req.subjectId);
        if (why) return { ok: false, refusal: why };
      }
      let material: Buffer;
      if (row.epoch.scheme === 'aes') {
        const key = await orgKeys.aesKey(row.epoch, signal);
        try {
          material = openCredential({ scheme: 'aes', key }, row, b);
        } finally {
          key.fill(0);
        }
      } else {
        const publicKey = row.epoch.public_key ?? Buffer.alloc(0);
        const opened = await sessions.withKey(
          req.sessionId,
          req,
          row.epoch,
          (privateKey) => openCredential({ scheme: 'p256', privateKey, publicKey }, row, b),
          signal,
        );
        if (!opened.ok) return opened;
        material = opened.value;
      }
      return { ok: true, value: { kind: row.kind, version: row.version, material } };
    },

    /** Crypto-shreds every version of a credential; false when there was none. */
    async delete(orgId: string, id: string, actorId: string): Promise<boolean> {
      const event = changeEvent({
        orgId,
        actorId,
        entityType: 'credential',
        entityId: id,
        operation: 'delete',
      });
      return (await creds.deleteCredential(orgId, id, [event])) > 0;
    },

    /** Crypto-shreds everything of an org: sessions, cached keys, wrapped keys, ciphertexts. */
    async shredOrg(orgId: string, actorId: string) {
      sessions.closeOrg(orgId);
      const event = changeEvent({
        orgId,
        actorId,
        entityType: 'vault_org',
        entityId: orgId,
        operation: 'delete',
      });
      const shredded = await creds.shredOrg(orgId, [event]);
      orgKeys.forget(orgId);
      return shredded;
    },
  };
}

/** The credential vault. */
export type CredentialVault = ReturnType<typeof createCredentialVault>;
