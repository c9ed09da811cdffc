import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { decryptAll } from './envelope.js';
import { ephemeralAgreement, P256_POINT_BYTES, sharedSecret } from './ecdh.js';

/**
 * Formats of a wrapped credential key (the first byte):
 * - 0x03: AES-256-GCM under the org's epoch data key: 0x03 || iv(12) || tag(16) || ct(32);
 * - 0x04: to the org's P-256 public key (Zero Trust): 0x04 || ephemeral point(65) || iv(12) ||
 *   tag(16) || ct(32), the wrapping key HKDF-SHA256 of the ECDH agreement (ECIES).
 * Writing needs only the public key; unwrapping needs the private key, which only a live Zero
 * Trust session holds.
 */
export const WRAP_FORMAT = { aes: 0x03, ec: 0x04 } as const;

/** Size of a credential key. */
export const DEK_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a wrapped credential key is bound to: its org, credential, version and data-key epoch. */
export interface KeyBinding {
  orgId: string;
  credentialId: string;
  version: number;
  epoch: number;
}

const aad = (format: number, b: KeyBinding) =>
  Buffer.from(
    `fortress-vault/dek\0${format}\0${b.orgId}\0${b.credentialId}\0${b.version}\0${b.epoch}`,
    'utf8',
  );

/** A fresh random credential key; the caller zeroes it. */
export function newDek(): Buffer {
  const dek = Buffer.alloc(DEK_BYTES);
  randomBytes(DEK_BYTES).copy(dek);
  return dek;
}

function gcmSeal(key: Buffer, format: number, dek: Buffer, b: KeyBinding): Buffer[] {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(aad(format, b));
  const body = Buffer.concat([cipher.update(dek), cipher.final()]);
  return [iv, cipher.getAuthTag(), body];
}

function gcmOpen(key: Buffer, format: number, rest: Buffer, b: KeyBinding): Buffer {
  if (rest.length !== IV_BYTES + TAG_BYTES + DEK_BYTES)
    throw new Error('unsupported wrapped key format');
  const decipher = createDecipheriv('aes-256-gcm', key, rest.subarray(0, IV_BYTES));
  decipher.setAAD(aad(format, b));
  decipher.setAuthTag(rest.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  return decryptAll(decipher, rest.subarray(IV_BYTES + TAG_BYTES));
}

/** The key that wraps to an ECDH agreement, bound to both public keys and the binding. */
function agreementKey(shared: Buffer, ephemeral: Buffer, recipient: Buffer, b: KeyBinding) {
  const derived = Buffer.from(
    hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), aad(WRAP_FORMAT.ec, b), 32),
  );
  shared.fill(0);
  return derived;
}

/** The format byte of a wrapped key. */
export function wrapFormat(wrapped: Buffer): number | undefined {
  return wrapped[0];
}

/** Wraps a credential key under an AES-256 data key. */
export function wrapDekAes(dataKey: Buffer, dek: Buffer, b: KeyBinding): Buffer {
  return Buffer.concat([
    Buffer.from([WRAP_FORMAT.aes]),
    ...gcmSeal(dataKey, WRAP_FORMAT.aes, dek, b),
  ]);
}

/** Unwraps a credential key with an AES-256 data key; the caller zeroes the result. */
export function unwrapDekAes(dataKey: Buffer, wrapped: Buffer, b: KeyBinding): Buffer {
  if (wrapped[0] !== WRAP_FORMAT.aes) throw new Error('unsupported wrapped key format');
  return gcmOpen(dataKey, WRAP_FORMAT.aes, wrapped.subarray(1), b);
}

/** Wraps a credential key to an org's P-256 public key (SPKI DER); no secret needed. */
export function wrapDekEc(publicKey: Buffer, dek: Buffer, b: KeyBinding): Buffer {
  const agreement = ephemeralAgreement(publicKey);
  const key = agreementKey(agreement.shared, agreement.point, publicKey, b);
  try {
    return Buffer.concat([
      Buffer.from([WRAP_FORMAT.ec]),
      agreement.point,
      ...gcmSeal(key, WRAP_FORMAT.ec, dek, b),
    ]);
  } finally {
    key.fill(0);
  }
}

/**
 * Unwraps a credential key with the org's private key (PKCS#8 DER) and public key (SPKI DER);
 * the caller zeroes the result.
 */
export function unwrapDekEc(
  privateKey: Buffer,
  publicKey: Buffer,
  wrapped: Buffer,
  b: KeyBinding,
): Buffer {
  if (wrapped[0] !== WRAP_FORMAT.ec || wrapped.length < 1 + P256_POINT_BYTES)
    throw new Error('unsupported wrapped key format');
  const ephemeral = wrapped.subarray(1, 1 + P256_POINT_BYTES);
  const key = agreementKey(sharedSecret(privateKey, ephemeral), ephemeral, publicKey, b);
  try {
    return gcmOpen(key, WRAP_FORMAT.ec, wrapped.subarray(1 + P256_POINT_BYTES), b);
  } finally {
    key.fill(0);
  }
}
