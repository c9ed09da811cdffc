import assert from 'node:assert/strict';
import { DecryptCommand, DescribeKeyCommand, GenerateDataKeyCommand } from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import { createFaultController } from '../../src/kms/faults.js';
import { OPERATION_NAMES } from '../../src/kms/operations.js';
import type { KmsServer } from '../../src/kms/server.js';
import type { SdkError } from './kms-fixture.js';
import {
  closeTestServers,
  createKey,
  expectError,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

describe('kms fault injection', () => {
  let server: KmsServer;
  let client: KMSClient;
  let key: { keyId: string; arn: string };

  beforeEach(async () => {
    server = await startTestKms();
    client = kmsClient(server);
    key = await createKey(client);
  });

  afterEach(closeTestServers);

  const describe = () => client.send(new DescribeKeyCommand({ KeyId: key.keyId }));

  it('surfaces throttling as ThrottlingException (HTTP 400) through the SDK', async () => {
    server.faults.set({ mode: 'throttle' });
    const error = await expectError(describe(), 'ThrottlingException');
    assert.equal(error.$metadata?.httpStatusCode, 400);
    assert.equal(error.$metadata?.attempts, 1);
  });

  it('lets the SDK retry a throttled call as throttling and succeed when it clears', async () => {
    server.faults.set({ mode: 'throttle', remaining: 1 });
    const retrying = kmsClient(server, 'AKIDOWNER', { maxAttempts: 2 });
    const { KeyMetadata, $metadata } = await retrying.send(
      new DescribeKeyCommand({ KeyId: key.keyId }),
    );
    assert.equal(KeyMetadata?.KeyId, key.keyId);
    assert.equal($metadata.attempts, 2);
    assert.equal(server.faults.current().mode, 'none');
  });

  it('fails the call with a connection error when the endpoint is down', async () => {
    server.faults.set({ mode: 'down' });
    let caught: unknown;
    await describe().catch((error: unknown) => (caught = error));
    assert.ok(caught instanceof Error);
    const { code, $metadata } = caught as SdkError;
    assert.equal($metadata?.httpStatusCode, undefined, 'no HTTP response expected');
    assert.match(`${code} ${caught.message}`, /ECONNRESET|socket hang up/);
  });

  it('has the SDK retry an outage as transient, each attempt reaching the endpoint', async () => {
    server.faults.set({ mode: 'down' });
    server.resetCalls();
    const retrying = kmsClient(server, 'AKIDOWNER', { maxAttempts: 3 });
    let caught: unknown;
    await retrying
      .send(new DescribeKeyCommand({ KeyId: key.keyId }))
      .catch((error: unknown) => (caught = error));
    assert.equal((caught as SdkError).$metadata?.attempts, 3);
    assert.deepEqual(server.calls(), { DescribeKey: 3 });
  });

  it('fails the call with HTTP 503 ServiceUnavailableException when unavailable', async () => {
    server.faults.set({ mode: 'unavailable' });
    const error = await expectError(describe(), 'ServiceUnavailableException');
    assert.equal(error.$metadata?.httpStatusCode, 503);
    assert.equal(error.$fault, 'server');
  });

  it('makes the client give up via its AbortSignal when latency is injected', async () => {
    server.faults.set({ latencyMs: 60_000 });
    await expectError(
      client.send(new DescribeKeyCommand({ KeyId: key.keyId }), {
        abortSignal: AbortSignal.timeout(50),
      }),
      'AbortError',
    );
  });

  it('makes the client give up via requestTimeout when latency is injected', async () => {
    server.faults.set({ latencyMs: 60_000, operations: ['Decrypt'] });
    const impatient = kmsClient(server, 'AKIDOWNER', {
      requestHandler: { requestTimeout: 50, throwOnRequestTimeout: true },
    });
    const { CiphertextBlob } = await impatient.send(
      new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' }),
    );
    await expectError(impatient.send(new DecryptCommand({ CiphertextBlob })), 'TimeoutError');
  });

  it('still answers correctly after a small injected latency', async () => {
    server.faults.set({ latencyMs: 20 });
    const { KeyMetadata } = await describe();
    assert.equal(KeyMetadata?.KeyId, key.keyId);
  });

  it('limits a fault to the listed operations', async () => {
    server.faults.set({ mode: 'throttle', operations: ['Decrypt'] });
    const { CiphertextBlob } = await client.send(
      new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' }),
    );
    await expectError(client.send(new DecryptCommand({ CiphertextBlob })), 'ThrottlingException');
    server.faults.reset();
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(decrypted.KeyId, key.arn);
  });

  it('counts calls per operation, faulted ones included, until reset', async () => {
    server.resetCalls();
    assert.deepEqual(server.calls(), {});
    await describe();
    server.faults.set({ mode: 'throttle', remaining: 1 });
    await expectError(describe(), 'ThrottlingException');
    await client.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' }));
    assert.deepEqual(server.calls(), { DescribeKey: 2, GenerateDataKey: 1 });
  });
});

describe('kms fault controller', () => {
  it('clears itself after `remaining` affected requests and skips other operations', () => {
    const faults = createFaultController(OPERATION_NAMES);
    faults.set({ mode: 'unavailable', operations: ['Encrypt'], remaining: 2 });
    assert.equal(faults.take('Decrypt'), undefined);
    assert.equal(faults.take('Encrypt')?.mode, 'unavailable');
    assert.equal(faults.current().remaining, 1);
    assert.equal(faults.take('Encrypt')?.mode, 'unavailable');
    assert.equal(faults.take('Encrypt'), undefined);
    assert.equal(faults.current().mode, 'none');
  });

  const invalid = [
    { name: 'an unknown mode', input: { mode: 'flaky' } },
    { name: 'a negative latency', input: { latencyMs: -1 } },
    { name: 'an unknown operation', input: { mode: 'down', operations: ['Decrpyt'] } },
    { name: 'a zero remaining', input: { mode: 'down', remaining: 0 } },
  ];
  for (const { name, input } of invalid) {
    it(`rejects ${name} and keeps the previous fault`, () => {
      const faults = createFaultController(OPERATION_NAMES);
      faults.set({ mode: 'throttle' });
      assert.throws(() => faults.set(input as never), { type: 'ValidationException' });
      assert.equal(faults.current().mode, 'throttle');
    });
  }
});
