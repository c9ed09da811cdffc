import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyPairWithoutPlaintextCommand,
  KMSClient,
} from '@aws-sdk/client-kms';
import { setTimeout as delay } from 'node:timers/promises';
import { FailedPreconditionError, UnavailableError } from '@fortress/kit/errors';
import type { KeyPurpose, KeyTarget, Keyring, NewDataKey, NewKeyPair } from '../../domain/ports.js';
import { kmsError } from './kms-errors.js';

/** Options for the KMS keyring. */
export interface KmsKeyringOptions {
  /** The default endpoint (the local KMS-compatible endpoint); AWS KMS when unset. */
  endpoint?: string | undefined;
  region: string;
  /** The service-managed key (SOHO), used when a target names no key. */
  serviceKeyId: string;
  /** Other endpoints an org's configuration may name (customers' KMS accounts). */
  allowedEndpoints: readonly string[];
  /** Deadline for one KMS call, retries included. */
  timeoutMs: number;
  /** Explicit credentials; the SDK's default chain (environment, role) when unset. */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Attempts per call: throttling and unavailability are retried once by default, within the
   * deadline; the error of the last attempt is the one reported. */
  maxAttempts?: number;
}

/**
 * The encryption context of an org's data key: KMS refuses to unwrap it for another org or
 * another purpose, and a grant can be constrained to the org.
 */
export const contextFor = (orgId: string, purpose: KeyPurpose) => ({
  'fortress:org': orgId,
  'fortress:purpose': purpose,
});

/** Waits `ms` unless `signal` aborts first; false when it did. */
const pause = (ms: number, signal: AbortSignal) => delay(ms, true, { signal }).catch(() => false);

/** The region of a key ARN (arn:aws:kms:<region>:<account>:key/<id>), if it is one. */
const regionOf = (keyId: string) => /^arn:aws[a-z-]*:kms:([a-z0-9-]+):/.exec(keyId)?.[1];

/**
 * Data keys through KMS (`@aws-sdk/client-kms`), at the service's endpoint or a customer's.
 * The vault always calls with its own identity: a customer's key is usable only through the
 * grant the customer gave that identity. Every call has a deadline; every failure becomes a
 * typed error (see kms-errors.ts) — never a fallback.
 */
export function createKmsKeyring(options: KmsKeyringOptions): Keyring & { close(): void } {
  const clients = new Map<string, KMSClient>();
  const clientFor = (endpoint: string, keyId: string): KMSClient => {
    if (endpoint && endpoint !== options.endpoint && !options.allowedEndpoints.includes(endpoint))
      throw new FailedPreconditionError(
        'kms_endpoint_not_allowed',
        "the org's KMS endpoint is not one this vault may call",
      );
    const url = endpoint || options.endpoint;
    const region = regionOf(keyId) ?? options.region;
    const id = `${url ?? ''}|${region}`;
    let client = clients.get(id);
    if (!client) {
      client = new KMSClient({
        region,
        maxAttempts: 1, // retried below, so that the reason reported is the last real one
        ...(url ? { endpoint: url } : {}),
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      clients.set(id, client);
    }
    return client;
  };
  const call = async <T>(
    target: KeyTarget,
    signal: AbortSignal | undefined,
    fn: (client: KMSClient, keyId: string, abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> => {
    const keyId = target.keyId || options.serviceKeyId;
    const client = clientFor(target.endpoint, keyId);
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const abortSignal = signal ? AbortSignal.any([deadline, signal]) : deadline;
    const attempts = options.maxAttempts ?? 2;
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn(client, keyId, abortSignal);
      } catch (err) {
        const mapped = kmsError(err, deadline.aborted);
        const retryable = mapped instanceof UnavailableError && mapped.reason !== 'kms_timeout';
        if (!retryable || attempt >= attempts || abortSignal.aborted) throw mapped;
        const backoff = 25 * 2 ** attempt * (0.5 + Math.random());
        if (!(await pause(backoff, abortSignal))) throw mapped;
      }
    }
  };
  return {
    generatePair(orgId, target, purpose, signal): Promise<NewKeyPair> {
      return call(target, signal, async (client, keyId, abortSignal) => {
        const out = await client.send(
          new GenerateDataKeyPairWithoutPlaintextCommand({
            KeyId: keyId,
            KeyPairSpec: 'ECC_NIST_P256',
            EncryptionContext: contextFor(orgId, purpose),
          }),
          { abortSignal },
        );
        if (!out.PublicKey || !out.PrivateKeyCiphertextBlob || !out.KeyId)
          throw new Error('incomplete GenerateDataKeyPairWithoutPlaintext answer');
        return {
          publicKey: Buffer.from(out.PublicKey),
          wrapped: Buffer.from(out.PrivateKeyCiphertextBlob),
          kmsKeyId: out.KeyId,
        };
      });
    },

    generate(orgId, target, purpose, signal): Promise<NewDataKey> {
      return call(target, signal, async (client, keyId, abortSignal) => {
        const out = await client.send(
          new GenerateDataKeyCommand({
            KeyId: keyId,
            KeySpec: 'AES_256',
            EncryptionContext: contextFor(orgId, purpose),
          }),
          { abortSignal },
        );
        if (!out.Plaintext || !out.CiphertextBlob || !out.KeyId)
          throw new Error('incomplete GenerateDataKey answer');
        const plaintext = Buffer.from(out.Plaintext);
        out.Plaintext.fill(0);
        return { plaintext, wrapped: Buffer.from(out.CiphertextBlob), kmsKeyId: out.KeyId };
      });
    },

    unwrap(orgId, target, wrapped, purpose, signal): Promise<Buffer> {
      return call(target, signal, async (client, keyId, abortSignal) => {
        const out = await client.send(
          new DecryptCommand({
            CiphertextBlob: wrapped,
            KeyId: keyId,
            EncryptionContext: contextFor(orgId, purpose),
          }),
          { abortSignal },
        );
        if (!out.Plaintext) throw new Error('incomplete Decrypt answer');
        const key = Buffer.from(out.Plaintext);
        out.Plaintext.fill(0);
        return key;
      });
    },

    close(): void {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}
