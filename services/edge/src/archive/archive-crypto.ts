import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** An archived object as stored: the record encrypted with the org's archive key. */
export interface SealedObject {
  v: 1;
  alg: 'A256GCM';
  org_id: string;
  /** The vault's archive key id, e.g. "arch_202611". */
  key_id: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** What the tag authenticates besides the ciphertext: whose object, where, under which key. */
const aad = (orgId: string, objectKey: string, keyId: string) =>
  Buffer.from(`fortress-archive/v1\n${orgId}\n${objectKey}\n${keyId}`);

/**
 * Encrypts an archive record with AES-256-GCM under the org's archive key. The object key and
 * org are bound as associated data, so an object moved to another key or org does not open.
 */
export function sealRecord(
  plaintext: Buffer,
  key: { id: string; bytes: Uint8Array },
  orgId: string,
  objectKey: string,
): SealedObject {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.bytes, iv);
  cipher.setAAD(aad(orgId, objectKey, key.id));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    v: 1,
    alg: 'A256GCM',
    org_id: orgId,
    key_id: key.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

/** Decrypts a sealed object; throws when the key, org, object key or bytes do not match. */
export function openRecord(sealed: SealedObject, key: Uint8Array, objectKey: string): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(aad(sealed.org_id, objectKey, sealed.key_id));
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([
    decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
    decipher.final(),
  ]);
}

/** The object key of a request's archive record. */
export function archiveObjectKey(orgId: string, requestId: string): string {
  return `pat/${orgId}/${requestId}.json`;
}
