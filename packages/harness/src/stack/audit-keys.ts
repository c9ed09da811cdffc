import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Where the audit checkpoint key pair lives. */
export interface AuditKeyFiles {
  /** Private Ed25519 JWK (0600): the audit service signs checkpoints with it. */
  signingKeyFile: string;
  /** Public JWK: what the verify command and auditors check signatures with. */
  verifyKeyFile: string;
}

/** Makes the Ed25519 key pair for audit checkpoints once per data directory. */
export async function ensureAuditKeys(dir: string): Promise<AuditKeyFiles> {
  const files = {
    signingKeyFile: join(dir, 'audit-signing.jwk'),
    verifyKeyFile: join(dir, 'audit-verify.jwk'),
  };
  if (existsSync(files.signingKeyFile) && existsSync(files.verifyKeyFile)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const kid = `ak-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const jwk = (k: typeof privateKey) => ({ ...k.export({ format: 'jwk' }), kid, alg: 'EdDSA' });
  await writeFile(files.signingKeyFile, JSON.stringify(jwk(privateKey)), { mode: 0o600 });
  await writeFile(files.verifyKeyFile, JSON.stringify(jwk(publicKey)), { mode: 0o644 });
  return files;
}

/**
 * Makes the 256-bit key (a symmetric JWK with a kid, 0600) that encrypts webhook signing
 * secrets at rest, once per data directory.
 */
export async function ensureWebhookKey(dir: string): Promise<string> {
  const file = join(dir, 'audit-webhook.jwk');
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const kid = `wk-${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString('hex')}`;
  const jwk = { kty: 'oct', k: randomBytes(32).toString('base64url'), kid, alg: 'A256GCM' };
  await writeFile(file, JSON.stringify(jwk), { mode: 0o600 });
  return file;
}
