import { FailedPreconditionError } from '@fortress/kit/errors';
import {
  newDek,
  unwrapDekAes,
  unwrapDekEc,
  wrapDekAes,
  wrapDekEc,
  type KeyBinding,
} from './dek-wrap.js';
import { open, seal, SECRET_FORMAT, type SecretBinding } from './envelope.js';
import type { EpochRow } from './records.js';

/** A sealed credential version: the ciphertext and its wrapped key. */
export interface Sealed {
  ciphertext: Buffer;
  wrappedDek: Buffer;
}

/** Fails with a stable reason when a stored credential does not authenticate. */
function integrity<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new FailedPreconditionError(
      'credential_integrity_failed',
      'a stored credential failed its integrity check and was not used',
      { cause: err },
    );
  }
}

const keyBinding = (b: SecretBinding, epoch: number): KeyBinding => ({ ...b, epoch });

/** Wraps a credential key for an epoch: under its AES data key, or to its P-256 public key. */
export function wrapFor(
  epoch: EpochRow,
  aesKey: Buffer | undefined,
  dek: Buffer,
  b: SecretBinding,
): Buffer {
  const kb = keyBinding(b, epoch.epoch);
  if (epoch.scheme === 'p256') {
    if (!epoch.public_key) throw new Error('p256 epoch without a public key');
    return wrapDekEc(epoch.public_key, dek, kb);
  }
  if (!aesKey) throw new Error('aes epoch without its data key');
  return wrapDekAes(aesKey, dek, kb);
}

/**
 * Seals a secret under a fresh credential key and wraps that key for the epoch (see wrapFor).
 * The credential key is zeroed; the secret is the caller's to zero.
 */
export function sealCredential(
  epoch: EpochRow,
  aesKey: Buffer | undefined,
  material: Buffer,
  b: SecretBinding,
): Sealed {
  const dek = newDek();
  try {
    const ciphertext = seal(dek, material, b);
    return { ciphertext, wrappedDek: wrapFor(epoch, aesKey, dek, b) };
  } finally {
    dek.fill(0);
  }
}

/** How to open a credential version's key: with an AES data key or a P-256 private key. */
export type KeyOpener =
  { scheme: 'aes'; key: Buffer } | { scheme: 'p256'; privateKey: Buffer; publicKey: Buffer };

/** Unwraps a credential version's key; the caller zeroes it. */
export function openDek(opener: KeyOpener, wrapped: Buffer, kb: KeyBinding): Buffer {
  return integrity(() =>
    opener.scheme === 'aes'
      ? unwrapDekAes(opener.key, wrapped, kb)
      : unwrapDekEc(opener.privateKey, opener.publicKey, wrapped, kb),
  );
}

/**
 * Decrypts a credential version: a legacy ciphertext directly with the epoch's AES key, a
 * current one with its own key. Every use authenticates (AES-GCM) against org, id, version
 * and epoch; the caller zeroes the result.
 */
export function openCredential(
  opener: KeyOpener,
  row: { ciphertext: Buffer; wrapped_dek: Buffer | null; key_epoch: number },
  b: SecretBinding,
): Buffer {
  if (row.wrapped_dek === null) {
    if (opener.scheme !== 'aes' || row.ciphertext[0] !== SECRET_FORMAT.legacy)
      return integrity(() => {
        throw new Error('legacy ciphertext without an aes data key');
      });
    return integrity(() => open(opener.key, row.ciphertext, b));
  }
  if (row.ciphertext[0] !== SECRET_FORMAT.current)
    return integrity(() => {
      throw new Error('a wrapped key with a legacy ciphertext');
    });
  const dek = openDek(opener, row.wrapped_dek, keyBinding(b, row.key_epoch));
  try {
    return integrity(() => open(dek, row.ciphertext, b));
  } finally {
    dek.fill(0);
  }
}
