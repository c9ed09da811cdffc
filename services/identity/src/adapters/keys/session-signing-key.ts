import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { calculateJwkThumbprint } from 'jose';
import type { SessionSigningKey } from '../../domain/access-token.js';

/** The private key a file holds: a private JWK (as the stack writes) or a PKCS#8 PEM. */
function parsePrivateKey(text: string): { privateKey: KeyObject; kid?: string } {
  if (text.trimStart().startsWith('{')) {
    const jwk = JSON.parse(text) as JsonWebKey & { kid?: unknown };
    if (!jwk.d) throw new Error('the JWK has no private part');
    const kid = typeof jwk.kid === 'string' && jwk.kid ? jwk.kid : undefined;
    return { privateKey: createPrivateKey({ key: jwk, format: 'jwk' }), ...(kid ? { kid } : {}) };
  }
  return { privateKey: createPrivateKey({ key: text, format: 'pem' }) };
}

/**
 * Loads the Ed25519 key that signs admin access tokens (FORTRESS_SESSION_SIGNING_KEY_FILE).
 * The key id is the JWK's "kid" when it has one, else its RFC 7638 thumbprint. Failures name
 * the file, never its content.
 */
export async function loadSessionSigningKey(file: string): Promise<SessionSigningKey> {
  let parsed: ReturnType<typeof parsePrivateKey>;
  try {
    parsed = parsePrivateKey(await readFile(file, 'utf8'));
  } catch (err) {
    const why = err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'is missing' : '';
    throw new Error(
      `${file} ${why || 'must hold an Ed25519 private key (a private JWK or a PKCS#8 PEM)'}`,
    );
  }
  const { privateKey } = parsed;
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`${file} must hold an Ed25519 key, not ${privateKey.asymmetricKeyType}`);
  const publicKey = createPublicKey(privateKey);
  const keyId = parsed.kid ?? (await calculateJwkThumbprint(publicKey.export({ format: 'jwk' })));
  return { keyId, privateKey, publicKey };
}
