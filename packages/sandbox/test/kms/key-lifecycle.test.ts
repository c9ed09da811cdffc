import assert from 'node:assert/strict';
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ScheduleKeyDeletionCommand,
} from '@aws-sdk/client-kms';
import type { KMSClient } from '@aws-sdk/client-kms';
import type { KmsServer } from '../../src/kms/server.js';
import {
  closeTestServers,
  createKey,
  expectError,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

describe('kms key lifecycle', () => {
  let server: KmsServer;
  let client: KMSClient;
  let key: { keyId: string; arn: string };

  beforeEach(async () => {
    server = await startTestKms({ accountId: '111122223333', region: 'eu-west-1' });
    client = kmsClient(server);
    key = await createKey(client);
  });

  afterEach(closeTestServers);

  it('returns KeyMetadata with a uuid id, an ARN of the account and region, and Enabled', async () => {
    const { KeyMetadata } = await client.send(
      new CreateKeyCommand({
        Description: 'fortress',
        KeyUsage: 'ENCRYPT_DECRYPT',
        KeySpec: 'SYMMETRIC_DEFAULT',
      }),
    );
    assert.match(KeyMetadata?.KeyId ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(KeyMetadata?.Arn, `arn:aws:kms:eu-west-1:111122223333:key/${KeyMetadata?.KeyId}`);
    assert.equal(KeyMetadata?.AWSAccountId, '111122223333');
    assert.equal(KeyMetadata?.Enabled, true);
    assert.equal(KeyMetadata?.KeyState, 'Enabled');
    assert.equal(KeyMetadata?.Description, 'fortress');
    assert.ok(KeyMetadata?.CreationDate instanceof Date);
  });

  it('rejects CreateKey with UnsupportedOperationException for an asymmetric key spec', async () => {
    await expectError(
      client.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'ENCRYPT_DECRYPT' })),
      'UnsupportedOperationException',
    );
  });

  it('describes the same key by id, ARN, alias name and alias ARN', async () => {
    await client.send(
      new CreateAliasCommand({ AliasName: 'alias/fortress', TargetKeyId: key.arn }),
    );
    const references = [
      key.keyId,
      key.arn,
      'alias/fortress',
      'arn:aws:kms:eu-west-1:111122223333:alias/fortress',
    ];
    for (const reference of references) {
      const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: reference }));
      assert.equal(KeyMetadata?.KeyId, key.keyId, reference);
    }
  });

  const unknownReferences = [
    { name: 'an unknown uuid', reference: '00000000-0000-4000-8000-000000000000' },
    { name: 'an ARN of another account', reference: `arn:aws:kms:eu-west-1:999999999999:key/x` },
    { name: 'an unknown alias', reference: 'alias/missing' },
  ];
  for (const { name, reference } of unknownReferences) {
    it(`rejects DescribeKey with NotFoundException for ${name}`, async () => {
      await expectError(
        client.send(new DescribeKeyCommand({ KeyId: reference })),
        'NotFoundException',
      );
    });
  }

  it('rejects CreateAlias for a taken name, a reserved name, and resolves no deleted alias', async () => {
    await client.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: key.keyId }));
    await expectError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/a', TargetKeyId: key.keyId })),
      'AlreadyExistsException',
    );
    await expectError(
      client.send(new CreateAliasCommand({ AliasName: 'alias/aws/s3', TargetKeyId: key.keyId })),
      'InvalidAliasNameException',
    );
    await client.send(new DeleteAliasCommand({ AliasName: 'alias/a' }));
    await expectError(
      client.send(new DescribeKeyCommand({ KeyId: 'alias/a' })),
      'NotFoundException',
    );
  });

  it('refuses use of a disabled key with DisabledException until it is enabled again', async () => {
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x') }),
    );
    await client.send(new DisableKeyCommand({ KeyId: key.keyId }));

    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    assert.equal(KeyMetadata?.KeyState, 'Disabled');
    assert.equal(KeyMetadata?.Enabled, false);
    await expectError(
      client.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' })),
      'DisabledException',
    );
    await expectError(client.send(new DecryptCommand({ CiphertextBlob })), 'DisabledException');

    await client.send(new EnableKeyCommand({ KeyId: key.keyId }));
    const decrypted = await client.send(new DecryptCommand({ CiphertextBlob }));
    assert.equal(Buffer.from(decrypted.Plaintext ?? []).toString(), 'x');
  });

  it('refuses use of a key pending deletion with KMSInvalidStateException', async () => {
    const { CiphertextBlob } = await client.send(
      new EncryptCommand({ KeyId: key.keyId, Plaintext: Buffer.from('x') }),
    );
    const scheduled = await client.send(
      new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }),
    );
    assert.equal(scheduled.KeyState, 'PendingDeletion');
    assert.equal(scheduled.PendingWindowInDays, 7);
    assert.ok(
      scheduled.DeletionDate instanceof Date && scheduled.DeletionDate.getTime() > Date.now(),
    );

    const { KeyMetadata } = await client.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    assert.equal(KeyMetadata?.KeyState, 'PendingDeletion');
    await expectError(
      client.send(new DecryptCommand({ CiphertextBlob })),
      'KMSInvalidStateException',
    );
    await expectError(
      client.send(new GenerateDataKeyCommand({ KeyId: key.keyId, NumberOfBytes: 32 })),
      'KMSInvalidStateException',
    );
    await expectError(
      client.send(new EnableKeyCommand({ KeyId: key.keyId })),
      'KMSInvalidStateException',
    );

    await client.send(new CancelKeyDeletionCommand({ KeyId: key.keyId }));
    const after = await client.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    assert.equal(after.KeyMetadata?.KeyState, 'Disabled');
  });

  it('rejects ScheduleKeyDeletion with ValidationException for a window under 7 days', async () => {
    await expectError(
      client.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 6 })),
      'ValidationException',
    );
  });
});
