import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Makes the Ed25519 key with which identity signs (and itself verifies) admin access tokens,
 * once per data directory: a private JWK with a "kid", owner-only. Nothing else needs it.
 */
export async function ensureSessionSigningKey(dir: string): Promise<string> {
  const file = join(dir, 'session-signing.jwk');
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const kid = `sk-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  await writeFile(
    file,
    JSON.stringify({ ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA' }),
    { mode: 0o600 },
  );
  return file;
}
