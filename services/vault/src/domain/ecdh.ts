import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';

/** Size of an uncompressed P-256 point (0x04 || x || y). */
export const P256_POINT_BYTES = 65;

// The SPKI DER of a P-256 public key is this prefix and the uncompressed point.
const SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');

/** The uncompressed point of a P-256 public key in SPKI DER. */
export function pointOf(spki: Buffer): Buffer {
  if (
    spki.length !== SPKI_PREFIX.length + P256_POINT_BYTES ||
    !spki.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)
  )
    throw new Error('not a P-256 public key');
  return Buffer.from(spki.subarray(SPKI_PREFIX.length));
}

/**
 * The shared secret of an org's private key (PKCS#8 DER, as KMS releases it) and a peer's
 * uncompressed point; the caller zeroes it. The private key stays in the caller's Buffer; the
 * key object made from it is OpenSSL's, which clears it when it is freed.
 */
export function sharedSecret(privatePkcs8: Buffer, peerPoint: Buffer): Buffer {
  return diffieHellman({
    privateKey: createPrivateKey({ key: privatePkcs8, format: 'der', type: 'pkcs8' }),
    publicKey: createPublicKey({
      key: Buffer.concat([SPKI_PREFIX, peerPoint]),
      format: 'der',
      type: 'spki',
    }),
  });
}

/** A fresh ephemeral agreement with a recipient (SPKI DER): the secret and our public point. */
export function ephemeralAgreement(recipientSpki: Buffer): { shared: Buffer; point: Buffer } {
  const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    shared: diffieHellman({
      privateKey: pair.privateKey,
      publicKey: createPublicKey({ key: recipientSpki, format: 'der', type: 'spki' }),
    }),
    point: pointOf(pair.publicKey.export({ format: 'der', type: 'spki' })),
  };
}
