import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Secret } from '@fortress/kit/secret';

/** What a sealed secret is bound to: opening it under any other context fails. */
export interface SecretContext {
  orgId: string;
  subscriptionId: string;
  version: number;
}

/** A sealed secret as stored: the key it was sealed under and iv || ciphertext || tag. */
export interface Sealed {
  keyId: string;
  ciphertext: Buffer;
}

/** Encrypts webhook signing secrets at rest. */
export interface SecretBox {
  /** Seals under the current key. */
  seal(plain: Secret, context: SecretContext): Sealed;
  /** Opens a sealed secret; throws when the key is unknown or the bytes or context differ. */
  open(sealed: Sealed, context: SecretContext): Secret;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** The AAD: a label, then org, subscription and version, so a row copied elsewhere won't open. */
const aad = (c: SecretContext) =>
  Buffer.from(`fortress.audit.webhook-secret.v1\n${c.orgId}\n${c.subscriptionId}\n${c.version}`);

/**
 * AES-256-GCM with a random 96-bit IV per seal, keys by id: the first key seals, every key
 * opens (older keys stay listed after a key rotation until no row uses them).
 */
export function createSecretBox(keys: ReadonlyArray<{ keyId: string; key: KeyObject }>): SecretBox {
  const current = keys[0];
  if (!current) throw new Error('no webhook secret key');
  const byId = new Map(keys.map((k) => [k.keyId, k.key]));
  return {
    seal(plain, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(aad(context));
      const body = Buffer.concat([cipher.update(plain.bytes()), cipher.final()]);
      return { keyId: current.keyId, ciphertext: Buffer.concat([iv, body, cipher.getAuthTag()]) };
    },
    open(sealed, context) {
      const key = byId.get(sealed.keyId);
      if (!key) throw new Error(`webhook secret key "${sealed.keyId}" is not configured`);
      const { ciphertext: c } = sealed;
      const decipher = createDecipheriv('aes-256-gcm', key, c.subarray(0, IV_BYTES));
      decipher.setAAD(aad(context));
      decipher.setAuthTag(c.subarray(c.length - TAG_BYTES));
      return new Secret(
        Buffer.concat([
          decipher.update(c.subarray(IV_BYTES, c.length - TAG_BYTES)),
          decipher.final(),
        ]),
      );
    },
  };
}

/** Reads a symmetric JWK file: `{"kty":"oct","k":<base64url of 32 bytes>,"kid":…}`. */
async function readOctJwk(file: string): Promise<{ keyId: string; key: KeyObject }> {
  const jwk = JSON.parse(await readFile(file, 'utf8')) as {
    kty?: unknown;
    k?: unknown;
    kid?: unknown;
  };
  if (jwk.kty !== 'oct' || typeof jwk.k !== 'string') throw new Error(`${file} is not an oct JWK`);
  if (typeof jwk.kid !== 'string' || !jwk.kid) throw new Error(`${file} has no "kid"`);
  const bytes = Buffer.from(jwk.k, 'base64url');
  if (bytes.length !== 32) throw new Error(`${file} does not hold a 256-bit key`);
  const key = createSecretKey(bytes);
  bytes.fill(0);
  return { keyId: jwk.kid, key };
}

/** The secret box from JWK files; the first file's key seals, all of them open. */
export async function loadSecretBox(files: readonly string[]): Promise<SecretBox> {
  return createSecretBox(await Promise.all(files.map(readOctJwk)));
}
