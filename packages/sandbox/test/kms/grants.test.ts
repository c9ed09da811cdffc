import assert from 'node:assert/strict';
import {
  CreateGrantCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  ListGrantsCommand,
  ReEncryptCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import type { GrantOperation, KMSClient } from '@aws-sdk/client-kms';
import type { KmsServer } from '../../src/kms/server.js';
import {
  closeTestServers,
  createKey,
  expectError,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

const ALICE = 'arn:aws:iam::111122223333:role/alice';

describe('kms grants', () => {
  let server: KmsServer;
  let owner: KMSClient;
  let alice: KMSClient;
  let key: { keyId: string; arn: string };

  beforeEach(async () => {
    server = await startTestKms({
      ownerAccessKeyId: 'AKIDOWNER',
      principals: { AKIDALICE: ALICE },
    });
    owner = kmsClient(server, 'AKIDOWNER');
    alice = kmsClient(server, 'AKIDALICE');
    key = await createKey(owner);
  });

  afterEach(closeTestServers);

  async function grant(
    operations: GrantOperation[],
    extra: { Constraints?: Record<string, Record<string, string>>; GranteePrincipal?: string } = {},
  ): Promise<{ GrantId: string; GrantToken: string }> {
    const { GrantId, GrantToken } = await owner.send(
      new CreateGrantCommand({
        KeyId: key.keyId,
        GranteePrincipal: extra.GranteePrincipal ?? ALICE,
        Operations: operations,
        ...(extra.Constraints === undefined ? {} : { Constraints: extra.Constraints }),
      }),
    );
    assert.ok(GrantId !== undefined && GrantToken !== undefined);
    return { GrantId, GrantToken };
  }

  async function ownerBlob(context?: Record<string, string>): Promise<Uint8Array> {
    const { CiphertextBlob } = await owner.send(
      new EncryptCommand({
        KeyId: key.keyId,
        Plaintext: Buffer.from('s'),
        EncryptionContext: context,
      }),
    );
    assert.ok(CiphertextBlob !== undefined);
    return CiphertextBlob;
  }

  it('denies a principal without a grant with AccessDeniedException', async () => {
    const blob = await ownerBlob();
    const denied = await expectError(
      alice.send(new DecryptCommand({ CiphertextBlob: blob })),
      'AccessDeniedException',
    );
    assert.match(denied.message, /arn:aws:iam::111122223333:role\/alice.*kms:Decrypt/);
    await expectError(
      alice.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' })),
      'AccessDeniedException',
    );
  });

  it('lets the grantee use the key, then denies it at once after RevokeGrant', async () => {
    const { GrantId, GrantToken } = await grant(['GenerateDataKey', 'Decrypt']);
    const generated = await alice.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', GrantTokens: [GrantToken] }),
    );
    const decrypted = await alice.send(
      new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob }),
    );
    assert.deepEqual(decrypted.Plaintext, generated.Plaintext);

    await owner.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId }));
    await expectError(
      alice.send(
        new DecryptCommand({ CiphertextBlob: generated.CiphertextBlob, GrantTokens: [GrantToken] }),
      ),
      'AccessDeniedException',
    );
  });

  it('denies GenerateDataKey to a grantee whose grant lists only Decrypt', async () => {
    await grant(['Decrypt']);
    const decrypted = await alice.send(new DecryptCommand({ CiphertextBlob: await ownerBlob() }));
    assert.equal(Buffer.from(decrypted.Plaintext ?? []).toString(), 's');
    await expectError(
      alice.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_256' })),
      'AccessDeniedException',
    );
  });

  const subsetCases = [
    {
      name: 'the constrained pair plus others',
      context: { tenant: 'a', extra: 'x' },
      allowed: true,
    },
    { name: 'exactly the constrained pair', context: { tenant: 'a' }, allowed: true },
    { name: 'another value', context: { tenant: 'b' }, allowed: false },
    { name: 'no context', context: undefined, allowed: false },
  ];
  for (const { name, context, allowed } of subsetCases) {
    it(`${allowed ? 'allows' : 'denies'} an EncryptionContextSubset grant for ${name}`, async () => {
      await grant(['Decrypt'], { Constraints: { EncryptionContextSubset: { tenant: 'a' } } });
      const call = alice.send(
        new DecryptCommand({
          CiphertextBlob: await ownerBlob(context),
          EncryptionContext: context,
        }),
      );
      if (allowed) assert.equal(Buffer.from((await call).Plaintext ?? []).toString(), 's');
      else await expectError(call, 'AccessDeniedException');
    });
  }

  it('allows an EncryptionContextEquals grant only for the exact context', async () => {
    await grant(['Encrypt'], { Constraints: { EncryptionContextEquals: { tenant: 'a' } } });
    const exact = await alice.send(
      new EncryptCommand({
        KeyId: key.keyId,
        Plaintext: Buffer.from('x'),
        EncryptionContext: { tenant: 'a' },
      }),
    );
    assert.equal(exact.KeyId, key.arn);
    await expectError(
      alice.send(
        new EncryptCommand({
          KeyId: key.keyId,
          Plaintext: Buffer.from('x'),
          EncryptionContext: { tenant: 'a', more: 'b' },
        }),
      ),
      'AccessDeniedException',
    );
  });

  it('matches an unmapped access key id as the principal itself', async () => {
    const bob = kmsClient(server, 'AKIDBOB');
    await expectError(
      bob.send(new DescribeKeyCommand({ KeyId: key.keyId })),
      'AccessDeniedException',
    );
    await grant(['DescribeKey'], { GranteePrincipal: 'AKIDBOB' });
    const { KeyMetadata } = await bob.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    assert.equal(KeyMetadata?.KeyId, key.keyId);
  });

  it('needs ReEncryptFrom on the source and ReEncryptTo on the destination', async () => {
    const destination = await createKey(owner);
    const blob = await ownerBlob();
    await grant(['ReEncryptFrom']);
    const call = () =>
      alice.send(
        new ReEncryptCommand({ CiphertextBlob: blob, DestinationKeyId: destination.keyId }),
      );
    await expectError(call(), 'AccessDeniedException');
    await owner.send(
      new CreateGrantCommand({
        KeyId: destination.keyId,
        GranteePrincipal: ALICE,
        Operations: ['ReEncryptTo'],
      }),
    );
    assert.equal((await call()).KeyId, destination.arn);
  });

  it('keeps owner-only operations from a grantee even with a broad grant', async () => {
    await grant(['Decrypt', 'Encrypt', 'CreateGrant', 'DescribeKey']);
    const attempts = [
      () => alice.send(new CreateKeyCommand({})),
      () => alice.send(new DisableKeyCommand({ KeyId: key.keyId })),
      () => alice.send(new ListGrantsCommand({ KeyId: key.keyId })),
      () =>
        alice.send(
          new CreateGrantCommand({
            KeyId: key.keyId,
            GranteePrincipal: 'x',
            Operations: ['Decrypt'],
          }),
        ),
    ];
    for (const attempt of attempts) await expectError(attempt(), 'AccessDeniedException');
  });

  it('lists grants with their fields and pages with Limit and Marker', async () => {
    const first = await grant(['Decrypt'], {
      Constraints: { EncryptionContextSubset: { tenant: 'a' } },
    });
    const second = await grant(['Encrypt']);
    const page1 = await owner.send(new ListGrantsCommand({ KeyId: key.keyId, Limit: 1 }));
    assert.equal(page1.Truncated, true);
    assert.equal(page1.Grants?.[0]?.GrantId, first.GrantId);
    assert.equal(page1.Grants?.[0]?.KeyId, key.arn);
    assert.equal(page1.Grants?.[0]?.GranteePrincipal, ALICE);
    assert.deepEqual(page1.Grants?.[0]?.Operations, ['Decrypt']);
    assert.deepEqual(page1.Grants?.[0]?.Constraints?.EncryptionContextSubset, { tenant: 'a' });
    assert.equal(page1.Grants?.[0]?.IssuingAccount, `arn:aws:iam::${server.accountId}:root`);
    const page2 = await owner.send(
      new ListGrantsCommand({ KeyId: key.keyId, Limit: 1, Marker: page1.NextMarker }),
    );
    assert.equal(page2.Truncated, false);
    assert.deepEqual(
      page2.Grants?.map((entry) => entry.GrantId),
      [second.GrantId],
    );
  });

  it('returns the same grant for a repeated CreateGrant with the same Name', async () => {
    const request = {
      KeyId: key.keyId,
      GranteePrincipal: ALICE,
      Operations: ['Decrypt' as const],
      Name: 'app',
    };
    const first = await owner.send(new CreateGrantCommand(request));
    const again = await owner.send(new CreateGrantCommand(request));
    assert.equal(again.GrantId, first.GrantId);
    const listed = await owner.send(new ListGrantsCommand({ KeyId: key.keyId }));
    assert.equal(listed.Grants?.length, 1);
  });

  it('rejects an unknown grant operation and an unknown grant id', async () => {
    await expectError(
      owner.send(
        new CreateGrantCommand({
          KeyId: key.keyId,
          GranteePrincipal: ALICE,
          Operations: ['Frobnicate' as GrantOperation],
        }),
      ),
      'ValidationException',
    );
    await expectError(
      owner.send(new RevokeGrantCommand({ KeyId: key.keyId, GrantId: 'a'.repeat(64) })),
      'NotFoundException',
    );
  });
});
