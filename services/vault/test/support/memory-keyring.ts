import { createCipheriv, createDecipheriv, generateKeyPairSync, randomBytes } from 'node:crypto';
import { UnavailableError } from '@fortress/kit/errors';
import type {
  KeyPurpose,
  KeyTarget,
  Keyring,
  NewDataKey,
  NewKeyPair,
} from '../../src/domain/ports.js';

/**
 * A keyring in memory that behaves like KMS: data keys are wrapped under a key-encryption key
 * with the org, purpose and key id as encryption context, so unwrapping for another org or
 * purpose fails. It remembers the plaintext keys it handed out (to check they get zeroed) and
 * can be told to fail.
 */
export function createMemoryKeyring(kmsKeyId = 'arn:aws:kms:local:000000000000:key/test') {
  const kek = randomBytes(32);
  const context = (orgId: string, purpose: KeyPurpose, target: KeyTarget) =>
    Buffer.from(`${orgId}|${purpose}|${target.keyId || kmsKeyId}`);
  const wrap = (
    orgId: string,
    key: Buffer,
    purpose: KeyPurpose = 'vault-data-key',
    target = { keyId: '', endpoint: '' },
  ): Buffer => {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', kek, iv).setAAD(context(orgId, purpose, target));
    const body = Buffer.concat([cipher.update(key), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]);
  };
  const unwrapSync = (
    orgId: string,
    wrapped: Buffer,
    purpose: KeyPurpose = 'vault-data-key',
    target = { keyId: '', endpoint: '' },
  ): Buffer => {
    const decipher = createDecipheriv('aes-256-gcm', kek, wrapped.subarray(0, 12)).setAAD(
      context(orgId, purpose, target),
    );
    decipher.setAuthTag(wrapped.subarray(12, 28));
    return Buffer.concat([decipher.update(wrapped.subarray(28)), decipher.final()]);
  };
  const down = () =>
    Promise.reject(
      new UnavailableError('kms_unavailable', 'the key management service did not answer'),
    );
  const keyring = {
    generated: [] as Buffer[],
    generateCalls: 0,
    unwrapCalls: 0,
    failing: false,
    generate(orgId: string, target: KeyTarget, purpose: KeyPurpose): Promise<NewDataKey> {
      keyring.generateCalls += 1;
      if (keyring.failing) return down();
      const plaintext = randomBytes(32);
      keyring.generated.push(plaintext);
      return Promise.resolve({
        plaintext,
        wrapped: wrap(orgId, plaintext, purpose, target),
        kmsKeyId: target.keyId || kmsKeyId,
      });
    },
    generatePair(orgId: string, target: KeyTarget, purpose: KeyPurpose): Promise<NewKeyPair> {
      keyring.generateCalls += 1;
      if (keyring.failing) return down();
      const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
      const privateKey = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
      const wrapped = wrap(orgId, privateKey, purpose, target);
      privateKey.fill(0);
      return Promise.resolve({
        publicKey: pair.publicKey.export({ format: 'der', type: 'spki' }),
        wrapped,
        kmsKeyId: target.keyId || kmsKeyId,
      });
    },
    unwrap(
      orgId: string,
      target: KeyTarget,
      wrapped: Buffer,
      purpose: KeyPurpose,
    ): Promise<Buffer> {
      keyring.unwrapCalls += 1;
      if (keyring.failing) return down();
      try {
        return Promise.resolve(unwrapSync(orgId, wrapped, purpose, target));
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
