import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** Format byte of the current ciphertext layout: 0x01 || iv(12) || tag(16) || ciphertext. */
const FORMAT_V1 = 0x01;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** What a ciphertext is bound to: moving it to another org, credential or version breaks it. */
export interface SecretBinding {
  orgId: string;
  credentialId: string;
  version: number;
}

/** The additional authenticated data for a binding. */
function aad(b: SecretBinding): Buffer {
  return Buffer.from(`fortress-vault/v1\0${b.orgId}\0${b.credentialId}\0${b.version}`, 'utf8');
}

/** Encrypts a secret with a 256-bit data key (AES-256-GCM, random IV, binding as AAD). */
export function seal(dataKey: Buffer, plaintext: Buffer, binding: SecretBinding): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dataKey, iv);
  cipher.setAAD(aad(binding));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([FORMAT_V1]), iv, cipher.getAuthTag(), body]);
}

/**
 * Decrypts and authenticates a sealed secret. Throws on any mismatch — wrong key, altered
 * bytes, or a binding other than the one it was sealed with. The caller owns the returned
 * Buffer and must zero it after use.
 */
export function open(dataKey: Buffer, sealed: Buffer, binding: SecretBinding): Buffer {
  if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== FORMAT_V1) {
    throw new Error('unsupported ciphertext format');
  }
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', dataKey, iv);
  decipher.setAAD(aad(binding));
  decipher.setAuthTag(tag);
  return Buffer.concat([
    decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)),
    decipher.final(),
  ]);
}
