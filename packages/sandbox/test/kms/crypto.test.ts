import assert from 'node:assert/strict';
import {
  CreateAliasCommand,
  DecryptCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  ReEncryptCommand,
} from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { KmsServer } from '../../src/kms/server.js';
import {
  closeTestServers,
  createKey,
  expectError,
  flipBit,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

describe('kms cryptographic operations', () => {
  let server: KmsServer;
  let client: KMSClient;
  let key: { keyId: string; arn: string };

  beforeEach(async () => {
    server = await startTestKms();
    client = kmsClient(server);
    key = await createKey(client);
  });

  afterEach(closeTestServers);

  const context = { tenant: 't-1', purpose: 'secrets' };

  it('returns the data key plaintext from Decrypt when the blob came from GenerateDataKey', async () => {
    const generated = await client.send(
      new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' }),
    );
    assert.equal(generated.Plaintext?.length, 32);
    assert.equal(generated.KeyId, key.arn);

    const decrypted = await client.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob }),
    );
    assert.deepEqual(decrypted.Plaintext, generated.Plaintext);
    assert.equal(decrypted.KeyId, key.arn);
    assert.equal(decrypted.EncryptionAlgorithm, 'SYMMETRIC_DEFAULT');
  });

  it('returns NumberOfBytes random bytes and no plaintext without plaintext', async () => {
    const generated = await client.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, NumberOfBytes: 64, EncryptionContext: context }),
    );
    assert.equal(generated.Plaintext?.length, 64);

    const blind = await client.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.keyId, KeySpec: 'AES_128' }),
    );
    assert.equal('Plaintext' in blind, false);
    const opened = await client.send(new DecryptCommand({ CiphertextBlob: blind.CiphertextBlob }));
    assert.equal(opened.Plaintext?.length, 16);
  });

  it('rejects GenerateDataKey with ValidationException when both KeySpec and NumberOfBytes are set', async () => {
    await expectError(
      client.send(
        new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256', NumberOfBytes: 32 }),
      ),
      'ValidationException',
    );
  });

  it('decrypts when the same context is given in another key order', async () => {
    const plaintext = Buffer.from('hello kms');
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext, EncryptionContext: context }),
    );
    const reordered = { purpose: 'secrets', tenant: 't-1' };
    const decrypted = await client.send(
      new DecryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        EncryptionContext: reordered,
      }),
    );
    assert.deepEqual(Buffer.from(decrypted.Plaintext ?? []), plaintext);
  });

  const wrongContexts = [
    { name: 'a different value', context: { tenant: 't-2', purpose: 'secrets' } },
    { name: 'a missing context', context: undefined },
    { name: 'an extra pair', context: { ...context, extra: 'x' } },
    { name: 'a missing pair', context: { tenant: 't-1' } },
  ];
  for (const { name, context: given } of wrongContexts) {
    it(`rejects Decrypt with InvalidCiphertextException when given ${name}`, async () => {
      const encrypted = await client.send(
        new EncryptCommand({
          KeyId: key.keyId,
          Plaintext: Buffer.from('x'),
          EncryptionContext: context,
        }),
      );
      await expectError(
        client.send(
          new DecryptCommand({
            CiphertextBlob: encrypted.CiphertextBlob,
            EncryptionContext: given,
          }),
        ),
        'InvalidCiphertextException',
      );
    });
  }

  // Blob layout: version(0) | key id(1..16) | IV(17..28) | tag(29..44) | body(45..).
  const tamperings = [
    { name: 'version byte', index: 0 },
    { name: 'key id', index: 5 },
    { name: 'IV', index: 20 },
    { name: 'GCM tag', index: 40 },
    { name: 'ciphertext body', index: 50 },
    { name: 'last byte', index: -1 },
  ];
  for (const { name, index } of tamperings) {
    it(`rejects Decrypt with InvalidCiphertextException when one bit of the ${name} is flipped`, async () => {
      const { CiphertextBlob } = await client.send(
        new GenerateDataKeyCommand({
          KeyId: key.keyId,
          KeySpec: 'AES_256',
          EncryptionContext: context,
        }),
      );
      assert.ok(CiphertextBlob !== undefined);
      const at = index < 0 ? CiphertextBlob.length + index : index;
      await expectError(
        client.send(
          new DecryptCommand({
            CiphertextBlob: flipBit(CiphertextBlob, at, 3),
            EncryptionContext: context,
          }),
        ),
        'InvalidCiphertextException',
      );
    });
  }

  it('rejects a blob from another account (second server) with InvalidCiphertextException', async () => {
    const other = await startTestKms();
    const otherClient = kmsClient(other);
    const otherKey = await createKey(otherClient);
    assert.notEqual(other.accountId, server.accountId);
    const foreign = await otherClient.send(
      new EncryptCommand({ KeyId: otherKey.keyId, Plaintext: Buffer.from('secret') }),
    );
    await expectError(
      client.send(new DecryptCommand({ CiphertextBlob: foreign.CiphertextBlob })),
      'InvalidCiphertextException',
    );
    await expectError(
      client.send(
        new DecryptCommand({ CiphertextBlob: foreign.CiphertextBlob, KeyId: otherKey.arn }),
      ),
      'NotFoundException',
    );
  });

  it('rejects Decrypt with IncorrectKeyException when KeyId names another key', async () => {
    const second = await createKey(client);
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x') }),
    );
    await expectError(
      client.send(new DecryptCommand({ CiphertextBlob, KeyId: second.keyId })),
      'IncorrectKeyException',
    );
  });

  it('decrypts when KeyId names the right key by alias', async () => {
    await client.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: key.keyId }));
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: 'alias/app', Plaintext: Buffer.from('x') }),
    );
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob, KeyId: 'alias/app' }));
    assert.equal(decrypted.KeyId, key.arn);
  });

  it('moves a blob to another key and context with ReEncrypt', async () => {
    const destination = await createKey(client);
    const plaintext = Buffer.from('re-encrypt me');
    const encrypted = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext, EncryptionContext: context }),
    );
    const moved = await client.send(
      new ReEncryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        SourceEncryptionContext: context,
        DestinationKeyId: destination.arn,
        DestinationEncryptionContext: { tenant: 't-9' },
      }),
    );
    assert.equal(moved.SourceKeyId, key.arn);
    assert.equal(moved.KeyId, destination.arn);
    const decrypted = await client.send(
      new DecryptCommand({
        CiphertextBlob: moved.CiphertextBlob,
        EncryptionContext: { tenant: 't-9' },
      }),
    );
    assert.equal(decrypted.KeyId, destination.arn);
    assert.deepEqual(Buffer.from(decrypted.Plaintext ?? []), plaintext);
    await expectError(
      client.send(
        new ReEncryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob,
          DestinationKeyId: destination.keyId,
        }),
      ),
      'InvalidCiphertextException',
    );
  });

  it('rejects Encrypt with ValidationException when the plaintext exceeds 4096 bytes', async () => {
    await expectError(
      client.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.alloc(4097) })),
      'ValidationException',
    );
  });
});
