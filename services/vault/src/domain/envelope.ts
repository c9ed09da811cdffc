import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Ciphertext formats of a secret, the first byte of every ciphertext:
 * - 0x01 (legacy): sealed directly under the org's epoch data key;
 * - 0x02 (current): sealed under the credential version's own key (see dek-wrap.ts).
 * Both lay out format(1) || iv(12) || tag(16) || AES-256-GCM ciphertext, and both bind the
 * format into the AAD, so relabelling a ciphertext as the other format fails to open.
 */
export const SECRET_FORMAT = { legacy: 0x01, current: 0x02 } as const;
/** One of the secret formats. */
export type SecretFormat = (typeof SECRET_FORMAT)[keyof typeof SECRET_FORMAT];

const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + IV_BYTES + TAG_BYTES;

/** What a ciphertext is bound to: moving it to another org, credential or version breaks it. */
export interface SecretBinding {
  orgId: string;
  credentialId: string;
  version: number;
}

/** The additional authenticated data for a binding, per format. */
function aad(format: SecretFormat, b: SecretBinding): Buffer {
  return Buffer.from(
    `fortress-vault/v${format}\0${b.orgId}\0${b.credentialId}\0${b.version}`,
    'utf8',
  );
}

/** The format byte of a sealed secret, if it is one this vault reads. */
export function secretFormat(sealed: Buffer): SecretFormat | undefined {
  const f = sealed[0];
  return sealed.length >= HEADER_BYTES && (f === 0x01 || f === 0x02) ? f : undefined;
}

/** Encrypts a secret with a 256-bit key (AES-256-GCM, random IV, binding as AAD). */
export function seal(
  key: Buffer,
  plaintext: Buffer,
  binding: SecretBinding,
  format: SecretFormat = SECRET_FORMAT.current,
): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad(format, binding));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([format]), iv, cipher.getAuthTag(), body]);
}

/**
 * Decrypts and authenticates a sealed secret. Throws on any mismatch — wrong key, altered
 * bytes, or a binding other than the one it was sealed with. The caller owns the returned
 * Buffer and must zero it after use.
 */
export function open(key: Buffer, sealed: Buffer, binding: SecretBinding): Buffer {
  const format = secretFormat(sealed);
  if (format === undefined) throw new Error('unsupported ciphertext format');
  const iv = sealed.subarray(1, 1 + IV_BYTES);
  const tag = sealed.subarray(1 + IV_BYTES, HEADER_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(aad(format, binding));
  decipher.setAuthTag(tag);
  return decryptAll(decipher, sealed.subarray(HEADER_BYTES));
}

/**
 * Runs a GCM decipher to the end and returns the plaintext as one Buffer, zeroing the partial
 * buffers it was assembled from (and the unauthenticated plaintext when the tag does not match).
 */
export function decryptAll(decipher: ReturnType<typeof createDecipheriv>, body: Buffer): Buffer {
  const head = decipher.update(body);
  try {
    const tail = decipher.final();
    const out = Buffer.alloc(head.length + tail.length);
    head.copy(out);
    tail.copy(out, head.length);
    tail.fill(0);
    return out;
  } finally {
    head.fill(0);
  }
}
