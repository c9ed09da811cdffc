import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';

/** Where the decision-token key pair lives. */
export interface DecisionKeyFiles {
  privateKeyFile: string;
  publicKeyFile: string;
}

/**
 * Makes the Ed25519 key pair with which policy signs decision tokens and the vault verifies
 * them, once per data directory: private JWK (0600) for policy, public JWK for the vault.
 */
export async function ensureDecisionKeys(dir: string): Promise<DecisionKeyFiles> {
  const files = {
    privateKeyFile: join(dir, 'decision-signing.jwk'),
    publicKeyFile: join(dir, 'decision-verify.jwk'),
  };
  if (existsSync(files.privateKeyFile) && existsSync(files.publicKeyFile)) return files;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', {
    crv: 'Ed25519',
    extractable: true,
  });
  const kid = `dk-${new Date().toISOString().slice(0, 10)}-${Math.random().toString(36).slice(2, 8)}`;
  await writeFile(
    files.privateKeyFile,
    JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'EdDSA' }),
    { mode: 0o600 },
  );
  await writeFile(
    files.publicKeyFile,
    JSON.stringify({ ...(await exportJWK(publicKey)), kid, alg: 'EdDSA' }),
    { mode: 0o644 },
  );
  return files;
}
