import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { SessionSigningKey } from '../../src/domain/access-token.js';

/** A fresh Ed25519 session signing key with the given id. */
export function testSigningKey(keyId = 'sk-test'): SessionSigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { keyId, privateKey, publicKey: createPublicKey(privateKey) };
}

/** base64url of a JSON value (to hand-craft tokens). */
export const b64json = (value: unknown) =>
  Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
