import { DecryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { UnavailableError } from '@fortress/kit/errors';

/** A data key fresh from KMS: plaintext (caller zeroes it) and its wrapped form. */
export interface NewDataKey {
  plaintext: Buffer;
  wrapped: Buffer;
  kmsKeyId: string;
}

/** Options for the KMS keyring. */
export interface KmsKeyringOptions {
  endpoint?: string | undefined;
  region: string;
  /** The service-managed key (SOHO). */
  keyId: string;
  /** Deadline for one KMS call. */
  timeoutMs: number;
}

/** The encryption context of an org's data key: KMS refuses to unwrap it for another org. */
const contextFor = (orgId: string) => ({
  'fortress:org': orgId,
  'fortress:purpose': 'vault-data-key',
});

/**
 * Data keys through KMS. Every call has a deadline; any KMS failure becomes UNAVAILABLE with a
 * reason that names KMS and nothing else (no key ids, no material).
 */
export function createKmsKeyring(options: KmsKeyringOptions) {
  const client = new KMSClient({
    region: options.region,
    maxAttempts: 2,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const call = async <T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> => {
    try {
      return await fn(AbortSignal.timeout(options.timeoutMs));
    } catch (err) {
      throw new UnavailableError('kms_unavailable', 'the key management service did not answer', {
        cause: err,
      });
    }
  };
  return {
    /** Generates a new 256-bit data key for an org. */
    generate(orgId: string): Promise<NewDataKey> {
      return call(async (abortSignal) => {
        const out = await client.send(
          new GenerateDataKeyCommand({
            KeyId: options.keyId,
            KeySpec: 'AES_256',
            EncryptionContext: contextFor(orgId),
          }),
          { abortSignal },
        );
        if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId)
          throw new Error('incomplete GenerateDataKey answer');
        return {
          plaintext: Buffer.from(out.Plaintext),
          wrapped: Buffer.from(out.CiphertextBlob),
          kmsKeyId: out.KeyId,
        };
      });
    },

    /** Unwraps an org's data key. */
    unwrap(orgId: string, wrapped: Buffer): Promise<Buffer> {
      return call(async (abortSignal) => {
        const out = await client.send(
          new DecryptCommand({ CiphertextBlob: wrapped, EncryptionContext: contextFor(orgId) }),
          { abortSignal },
        );
        if (!out.Plaintext) throw new Error('incomplete Decrypt answer');
        const key = Buffer.from(out.Plaintext);
        out.Plaintext.fill(0);
        return key;
      });
    },

    close(): void {
      client.destroy();
    },
  };
}

/** The KMS keyring. */
export type KmsKeyring = ReturnType<typeof createKmsKeyring>;
