import assert from 'node:assert/strict';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import type { KMSClientConfig } from '@aws-sdk/client-kms';
import type { KmsServer, KmsServerOptions } from '../../src/kms/server.js';
import { startKmsServer } from '../../src/kms/server.js';

/** An SDK error as the tests inspect it. */
export type SdkError = Error & {
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number; requestId?: string };
};

/** Servers started by `startTestKms`, closed by `closeTestServers` in an `afterEach`. */
const started: KmsServer[] = [];

/** Starts a server on port 0 that `closeTestServers` will stop. */
export async function startTestKms(options: KmsServerOptions = {}): Promise<KmsServer> {
  const server = await startKmsServer(options);
  started.push(server);
  return server;
}

/** Stops every server `startTestKms` started. */
export async function closeTestServers(): Promise<void> {
  await Promise.all(started.splice(0).map((server) => server.close()));
}

/** A real KMS client pointed at the server, calling as the given access key, without retries. */
export function kmsClient(
  server: KmsServer,
  accessKeyId = 'AKIDOWNER',
  config: Partial<KMSClientConfig> = {},
): KMSClient {
  return new KMSClient({
    region: server.region,
    endpoint: server.url,
    credentials: { accessKeyId, secretAccessKey: 'not-checked' },
    maxAttempts: 1,
    ...config,
  });
}

/** Creates a key and returns its id and ARN. */
export async function createKey(client: KMSClient): Promise<{ keyId: string; arn: string }> {
  const { KeyMetadata } = await client.send(new CreateKeyCommand({ Description: 'test key' }));
  assert.ok(KeyMetadata?.KeyId !== undefined && KeyMetadata.Arn !== undefined);
  return { keyId: KeyMetadata.KeyId, arn: KeyMetadata.Arn };
}

/** Asserts the promise rejects with an error of this name and returns the error. */
export async function expectError(promise: Promise<unknown>, name: string): Promise<SdkError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error: unknown) {
    caught = error;
  }
  assert.ok(caught instanceof Error, `expected ${name}, but the call succeeded`);
  assert.equal(caught.name, name, `expected ${name}, got ${caught.name}: ${caught.message}`);
  return caught;
}

/** A copy of the bytes with one bit flipped. */
export function flipBit(bytes: Uint8Array, byteIndex: number, bit = 0): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[byteIndex] = (copy[byteIndex] ?? 0) ^ (1 << bit);
  return copy;
}
