import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';

/** Secrets the stack generates once per data directory and reuses on every start. */
export interface StackSecrets {
  /** Password of each service's runtime database role. */
  dbPasswords: Record<string, string>;
  /** The key the sandbox Anthropic API accepts (stands in for a real Anthropic key). */
  sandboxAnthropicKey: string;
  /** A second key the sandbox accepts: what an admin rotates a PAT key to. */
  sandboxRotationKey: string;
  /** The service-managed KMS key (SOHO tier). */
  kmsServiceKeyId?: string;
}

const random = (bytes = 24) => randomBytes(bytes).toString('base64url');

/** Reads the stack's secrets file (mode 0600), filling in anything missing. */
export async function loadStackSecrets(
  file: string,
  services: readonly string[],
): Promise<StackSecrets> {
  const existing: Partial<StackSecrets> = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<StackSecrets>)
    : {};
  const secrets: StackSecrets = {
    ...existing,
    dbPasswords: Object.fromEntries(
      services.map((s) => [s, existing.dbPasswords?.[s] ?? random()]),
    ),
    sandboxAnthropicKey: existing.sandboxAnthropicKey ?? `sk-ant-sandbox-${random(32)}`,
    sandboxRotationKey: existing.sandboxRotationKey ?? `sk-ant-sandbox-${random(32)}`,
  };
  await saveStackSecrets(file, secrets);
  return secrets;
}

/** Writes the secrets file with owner-only permissions. */
export async function saveStackSecrets(file: string, secrets: StackSecrets): Promise<void> {
  await writeFile(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
}
