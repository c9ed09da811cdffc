import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint } from 'jose';
import { ensureSessionSigningKey } from '@fortress/harness/stack/session-keys';
import { loadSessionSigningKey } from '../../../src/adapters/keys/session-signing-key.js';
import { signAccessToken, verifyAccessToken } from '../../../src/domain/access-token.js';

describe('loadSessionSigningKey', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fortress-session-key-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const roundTrips = async (file: string) => {
    const key = await loadSessionSigningKey(file);
    const claims = { userId: 'usr_1', orgId: 'org_1', roles: ['owner'], sessionId: 'ses_1' };
    const now = new Date();
    const token = await signAccessToken(key, claims, now, new Date(now.getTime() + 60_000));
    assert.deepEqual(await verifyAccessToken(key, token, now), { ok: true, claims });
    return key;
  };

  it('loads the private JWK the stack generates, with its kid, owner-only', async () => {
    const file = await ensureSessionSigningKey(join(dir, 'stack'));
    const key = await roundTrips(file);
    assert.match(key.keyId, /^sk-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}$/);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(await ensureSessionSigningKey(join(dir, 'stack')), file, 'reused on restart');
    assert.equal((await loadSessionSigningKey(file)).keyId, key.keyId);
  });

  it('loads a PKCS#8 PEM (openssl genpkey -algorithm ed25519), its kid the JWK thumbprint', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const file = join(dir, 'key.pem');
    await writeFile(file, privateKey.export({ format: 'pem', type: 'pkcs8' }));
    const key = await roundTrips(file);
    assert.equal(key.keyId, await calculateJwkThumbprint(publicKey.export({ format: 'jwk' })));
  });

  const bad = [
    {
      name: 'an RSA key',
      content: () =>
        generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
          format: 'pem',
          type: 'pkcs8',
        }),
      error: /must hold an Ed25519 key, not rsa/,
    },
    {
      name: 'a public JWK',
      content: () =>
        JSON.stringify(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' })),
      error: /must hold an Ed25519 private key/,
    },
    {
      name: 'garbage',
      content: () => 'secret-looking-garbage',
      error: /must hold an Ed25519 private key/,
    },
  ];
  for (const c of bad) {
    it(`refuses ${c.name}, naming the file and not its content`, async () => {
      const file = join(dir, `bad-${c.name.replace(/\W/g, '-')}`);
      const content = c.content();
      await writeFile(file, content);
      await assert.rejects(loadSessionSigningKey(file), (err: Error) => {
        assert.match(err.message, c.error);
        assert.ok(err.message.includes(file));
        assert.ok(!err.message.includes(String(content).slice(0, 20)));
        return true;
      });
    });
  }

  it('says when the file is missing', async () => {
    await assert.rejects(loadSessionSigningKey(join(dir, 'nope.jwk')), /nope\.jwk is missing/);
  });
});
