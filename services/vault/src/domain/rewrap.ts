import {
  openCredential,
  openDek,
  sealCredential,
  wrapFor,
  type KeyOpener,
} from './credential-crypto.js';
import type { EpochRow, RewrapRow, RewrapUpdate } from './records.js';

/** The new epoch to wrap onto: its row, and its AES key when it is an AES epoch. */
export interface RewrapTarget {
  epoch: EpochRow;
  aesKey: Buffer | undefined;
}

/**
 * Moves one credential version onto the target epoch. Its own key is unwrapped with the old
 * epoch's opener and wrapped again for the new one — the secret itself is neither decrypted nor
 * touched. A legacy version (sealed directly under its epoch's data key) is converted: opened,
 * and sealed again under a fresh key of its own. Throws when the row fails its integrity check.
 */
export function rewrapRow(
  orgId: string,
  row: RewrapRow,
  openers: ReadonlyMap<number, KeyOpener>,
  target: RewrapTarget,
): RewrapUpdate {
  const opener = openers.get(row.key_epoch);
  if (!opener) throw new Error(`no key for epoch ${row.key_epoch}`);
  const b = { orgId, credentialId: row.id, version: row.version };
  if (row.wrapped_dek === null) {
    const secret = openCredential(opener, row, b);
    try {
      const sealed = sealCredential(target.epoch, target.aesKey, secret, b);
      return {
        id: row.id,
        version: row.version,
        wrapped_dek: sealed.wrappedDek,
        ciphertext: sealed.ciphertext,
      };
    } finally {
      secret.fill(0);
    }
  }
  const dek = openDek(opener, row.wrapped_dek, { ...b, epoch: row.key_epoch });
  try {
    const wrapped = wrapFor(target.epoch, target.aesKey, dek, b);
    return { id: row.id, version: row.version, wrapped_dek: wrapped, ciphertext: null };
  } finally {
    dek.fill(0);
  }
}
