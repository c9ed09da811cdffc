import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { EncryptionContext } from './input.js';

/**
 * Ciphertext blob layout (all fixed-size but the last field):
 *   version (1) | key id as uuid bytes (16) | IV (12) | GCM tag (16) | AES-256-GCM ciphertext
 * The AAD is version | key id | canonical encryption context, so any change to the header, the
 * context or the body fails authentication.
 */
const VERSION = 1;
const KEY_ID_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
const BODY_OFFSET = HEADER_BYTES + IV_BYTES + TAG_BYTES;

/** Size of the AES-256 key material behind every KMS key here. */
export const KEY_MATERIAL_BYTES = 32;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function uuidToBytes(keyId: string): Buffer {
  if (!UUID.test(keyId)) throw new Error(`key id "${keyId}" is not a lowercase uuid`);
  return Buffer.from(keyId.replaceAll('-', ''), 'hex');
}

function bytesToUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Canonical bytes of an encryption context: entries sorted by key, as JSON pairs. */
export function canonicalContext(context: EncryptionContext): Buffer {
  const entries = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]]);
  return Buffer.from(JSON.stringify(entries), 'utf8');
}

function aad(header: Buffer, context: EncryptionContext): Buffer {
  return Buffer.concat([header, canonicalContext(context)]);
}

/** Encrypts plaintext under a key's material, binding the key id and context into the blob. */
export function sealBlob(
  keyId: string,
  material: Buffer,
  plaintext: Buffer,
  context: EncryptionContext,
): Buffer {
  const header = Buffer.concat([Buffer.of(VERSION), uuidToBytes(keyId)]);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', material, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(header, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, iv, cipher.getAuthTag(), body]);
}

/** The key id a blob names, or undefined when the blob is not in this format. */
export function blobKeyId(blob: Buffer): string | undefined {
  if (blob.length <= BODY_OFFSET || blob[0] !== VERSION) return undefined;
  return bytesToUuid(blob.subarray(1, HEADER_BYTES));
}

/** Decrypts a blob; undefined when it does not authenticate under this material and context. */
export function openBlob(
  blob: Buffer,
  material: Buffer,
  context: EncryptionContext,
): Buffer | undefined {
  if (blobKeyId(blob) === undefined) return undefined;
  const header = blob.subarray(0, HEADER_BYTES);
  const iv = blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES);
  const tag = blob.subarray(HEADER_BYTES + IV_BYTES, BODY_OFFSET);
  const decipher = createDecipheriv('aes-256-gcm', material, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad(header, context));
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(blob.subarray(BODY_OFFSET)), decipher.final()]);
  } catch {
    // GCM authentication failure: wrong key, wrong context or a modified blob.
    return undefined;
  }
}
