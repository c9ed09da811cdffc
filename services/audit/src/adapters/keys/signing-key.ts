import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { SigningKey } from '../../domain/checkpoint.js';

/** A JWK file's key with the id it is known by. */
async function readJwk(file: string): Promise<{ jwk: JsonWebKey; kid: string }> {
  const jwk = JSON.parse(await readFile(file, 'utf8')) as JsonWebKey & { kid?: unknown };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') throw new Error(`${file} is not an Ed25519 JWK`);
  if (typeof jwk.kid !== 'string' || !jwk.kid) throw new Error(`${file} has no "kid"`);
  return { jwk, kid: jwk.kid };
}

/** The checkpoint signing key (an Ed25519 private JWK with a kid) and its public half. */
export async function loadSigningKey(file: string): Promise<SigningKey & { publicKey: KeyObject }> {
  const { jwk, kid } = await readJwk(file);
  const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
  return { keyId: kid, privateKey, publicKey: createPublicKey(privateKey) };
}

/** A public key input from a JWK, dropping the private part if there is one. */
function createPublicKeyInput(jwk: JsonWebKey) {
  const publicJwk = { ...jwk };
  delete publicJwk.d;
  return { key: publicJwk, format: 'jwk' as const };
}

/** Verification keys by kid, from public (or private) Ed25519 JWK files. */
export async function loadVerifyKeys(files: string[]): Promise<Map<string, KeyObject>> {
  const keys = new Map<string, KeyObject>();
  for (const file of files) {
    const { jwk, kid } = await readJwk(file);
    // The public half, whether the file holds a public or a private JWK.
    keys.set(kid, createPublicKey(createPublicKeyInput(jwk)));
  }
  return keys;
}
