import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * An archived object of the first format: one request's record in an object of its own
 * (`pat/<org>/<request>.json`), encrypted with the org's archive key.
 */
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

/**
 * One request's record as a line of a segment object (`pat/<org>/<segment>.jsonl`), encrypted
 * with the org's archive key. The request id is in clear (it names the record, like the first
 * format's object key did) and bound to the ciphertext with the org and the key id.
 */
export interface SealedRecord {
  v: 2;
  alg: 'A256GCM';
  org_id: string;
  request_id: string;
  key_id: string;
  iv: string;
  tag: string;
  ciphertext: string;
}

/** What the tag authenticates besides the ciphertext: whose object, where, under which key. */
const aadV1 = (orgId: string, objectKey: string, keyId: string) =>
  Buffer.from(`fortress-archive/v1\n${orgId}\n${objectKey}\n${keyId}`);
/** …and for a segment's record: whose, which request, under which key. */
const aadV2 = (orgId: string, requestId: string, keyId: string) =>
  Buffer.from(`fortress-archive/v2\n${orgId}\n${requestId}\n${keyId}`);

function encrypt(plaintext: Buffer, key: Uint8Array, aad: Buffer) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    ciphertext: ciphertext.toString('base64'),
  };
}

function decrypt(
  sealed: { iv: string; tag: string; ciphertext: string },
  key: Uint8Array,
  aad: Buffer,
): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'));
  decipher.setAAD(aad);
  decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
  return Buffer.concat([
    decipher.update(Buffer.from(sealed.ciphertext, 'base64')),
    decipher.final(),
  ]);
}

/**
 * Encrypts a request's archive record with AES-256-GCM under the org's archive key, as a line
 * of a segment. The org, the request id and the key id are bound as associated data, so a
 * record moved to another org, passed off as another request's, or relabelled does not open.
 */
export function sealRecord(
  plaintext: Buffer,
  key: { id: string; bytes: Uint8Array },
  orgId: string,
  requestId: string,
): SealedRecord {
  return {
    v: 2,
    alg: 'A256GCM',
    org_id: orgId,
    request_id: requestId,
    key_id: key.id,
    ...encrypt(plaintext, key.bytes, aadV2(orgId, requestId, key.id)),
  };
}

/** Decrypts a segment's record; throws when the key, org, request id or bytes do not match. */
export function openRecord(sealed: SealedRecord, key: Uint8Array): Buffer {
  return decrypt(sealed, key, aadV2(sealed.org_id, sealed.request_id, sealed.key_id));
}

/**
 * Encrypts a record as an object of the first format (tests and tools; the writer now writes
 * segments). The object key and org are bound as associated data.
 */
export function sealObject(
  plaintext: Buffer,
  key: { id: string; bytes: Uint8Array },
  orgId: string,
  objectKey: string,
): SealedObject {
  return {
    v: 1,
    alg: 'A256GCM',
    org_id: orgId,
    key_id: key.id,
    ...encrypt(plaintext, key.bytes, aadV1(orgId, objectKey, key.id)),
  };
}

/** Decrypts an object of the first format; throws when key, org, object key or bytes differ. */
export function openObject(sealed: SealedObject, key: Uint8Array, objectKey: string): Buffer {
  return decrypt(sealed, key, aadV1(sealed.org_id, objectKey, sealed.key_id));
}

/** The object key of a request's record in the first format (one object per request). */
export function archiveObjectKey(orgId: string, requestId: string): string {
  return `pat/${orgId}/${requestId}.json`;
}

/** The object key of a segment: many requests' records, one JSON line each. */
export function segmentObjectKey(orgId: string, segmentId: string): string {
  return `pat/${orgId}/${segmentId}.jsonl`;
}

/**
 * The record of a request in a segment's text, or undefined. Lines that do not parse (a line
 * torn by a crash while it was being appended) are skipped.
 */
export function findRecord(segment: string, requestId: string): SealedRecord | undefined {
  for (const line of segment.split('\n')) {
    if (!line.includes(requestId)) continue;
    try {
      const r = JSON.parse(line) as SealedRecord;
      if (r.v === 2 && r.request_id === requestId) return r;
    } catch {
      // torn line
    }
  }
  return undefined;
}
