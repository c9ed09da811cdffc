import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { UnavailableError } from '@fortress/kit/errors';
import type { Keyring } from '../../src/domain/credential-vault.js';

/**
 * A keyring in memory that behaves like KMS: data keys are wrapped under a key-encryption key
 * with the org as encryption context, so unwrapping for another org fails. It remembers the
 * plaintext keys it handed out (to check they get zeroed) and can be told to fail.
 */
export function createMemoryKeyring(kmsKeyId = 'arn:aws:kms:local:000000000000:key/test') {
  const kek = randomBytes(32);
  const wrap = (orgId: string, key: Buffer): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(Buffer.from(orgId));
    const body = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  };
  const unwrapSync = (orgId: string, wrapped: Buffer): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12)).setAAD(
      Buffer.from(orgId),
    );
    decipher.setAuthTag(wrapped.subarray(12, 28));
    return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
  };
  const keyring = {
    generated: [] as Buffer[],
    generateCalls: 0,
    unwrapCalls: 0,
    failing: false,
    generate(orgId: string): Promise<{ plaintext: Buffer; wrapped: Buffer; kmsKeyId: string }> {
      keyring.generateCalls += 1;
      if (keyring.failing)
        return Promise.reject(
          new UnavailableError('kms_unavailable', 'the key management service did not answer'),
        );
      const plaintext = randomBytes(32);
      keyring.generated.push(plaintext);
      return Promise.resolve({ plaintext, wrapped: wrap(orgId, plaintext), kmsKeyId });
    },
    unwrap(orgId: string, wrapped: Buffer): Promise<Buffer> {
      keyring.unwrapCalls += 1;
      if (keyring.failing)
        return Promise.reject(
          new UnavailableError('kms_unavailable', 'the key management service did not answer'),
        );
      try {
        return Promise.resolve(unwrapSync(orgId, wrapped));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
    /** Wraps a key the way another replica's keyring call would have. */
    wrapForTest: wrap,
    /** Unwraps without counting, for assertions. */
    unwrapForTest: unwrapSync,
  } satisfies Keyring & Record<string, unknown>;
  return keyring;
}

/** The in-memory keyring. */
export type MemoryKeyring = ReturnType<typeof createMemoryKeyring>;
