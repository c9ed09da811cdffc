import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
} from '@aws-sdk/client-kms';
import { startKmsServer } from '../../src/kms/server.js';
import {
  closeTestServers,
  createKey,
  expectError,
  kmsClient,
  startTestKms,
} from './kms-fixture.js';

describe('kms state file', () => {
  let dir: string;
  let stateFile: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fortress-kms-'));
    stateFile = join(dir, 'kms-state.json');
  });

  afterEach(async () => {
    await closeTestServers();
    await rm(dir, { recursive: true, force: true });
  });

  it('still decrypts, resolves aliases and honours grants after a restart', async () => {
    const options = { stateFile, ownerAccessKeyId: 'AKIDOWNER' };
    const first = await startTestKms(options);
    const owner = kmsClient(first);
    const key = await createKey(owner);
    const disabled = await createKey(owner);
    await owner.send(new CreateAliasCommand({ AliasName: 'alias/app', TargetKeyId: key.keyId }));
    await owner.send(
      new CreateGrantCommand({
        KeyId: key.keyId,
        GranteePrincipal: 'AKIDAPP',
        Operations: ['Decrypt'],
      }),
    );
    await owner.send(new DisableKeyCommand({ KeyId: disabled.keyId }));
    const generated = await owner.send(
      new GenerateDataKeyCommand({
        KeyId: 'alias/app',
        KeySpec: 'AES_256',
        EncryptionContext: { t: '1' },
      }),
    );
    await first.close();

    const second = await startTestKms(options);
    assert.equal(second.accountId, first.accountId);
    const app = kmsClient(second, 'AKIDAPP');
    const decrypted = await app.send(
      new DecryptCommand({
        CiphertextBlob: generated.CiphertextBlob,
        EncryptionContext: { t: '1' },
      }),
    );
    assert.deepEqual(decrypted.Plaintext, generated.Plaintext);
    const viaAlias = await kmsClient(second).send(new DescribeKeyCommand({ KeyId: 'alias/app' }));
    assert.equal(viaAlias.KeyMetadata?.KeyId, key.keyId);
    await expectError(
      kmsClient(second).send(
        new EncryptCommand({ KeyId: disabled.keyId, Plaintext: Buffer.from('x') }),
      ),
      'DisabledException',
    );
  });

  it('writes the file with mode 0600 and leaves no temporary files behind', async () => {
    const server = await startTestKms({ stateFile });
    await createKey(kmsClient(server));
    await server.close();
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['kms-state.json']);
    const state = JSON.parse(await readFile(stateFile, 'utf8')) as {
      version: number;
      keys: unknown[];
    };
    assert.equal(state.version, 1);
    assert.equal(state.keys.length, 1);
  });

  it('keeps the account id across restarts even before any key exists', async () => {
    const first = await startTestKms({ stateFile });
    await first.close();
    const second = await startTestKms({ stateFile });
    assert.equal(second.accountId, first.accountId);
  });

  it('refuses to start on a state file of another account', async () => {
    await (await startTestKms({ stateFile, accountId: '111111111111' })).close();
    await assert.rejects(startKmsServer({ stateFile, accountId: '222222222222' }), /111111111111/);
  });

  it('refuses to start on a corrupt state file with a message naming it', async () => {
    await writeFile(stateFile, '{"version": 1, "accountId": "123"}');
    await assert.rejects(startKmsServer({ stateFile }), (error: Error) => {
      assert.match(error.message, /kms-state\.json.*invalid/);
      return true;
    });
  });

  it('keeps keys only in memory without a state file', async () => {
    const first = await startTestKms();
    const key = await createKey(kmsClient(first));
    await first.close();
    const second = await startTestKms();
    await expectError(
      kmsClient(second).send(new DescribeKeyCommand({ KeyId: key.keyId })),
      'NotFoundException',
    );
  });
});
