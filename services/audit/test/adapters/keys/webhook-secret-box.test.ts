import assert from 'node:assert/strict';
import { createSecretKey, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Secret } from '@fortress/kit/secret';
import { ensureWebhookKey } from '@fortress/harness/stack/audit-keys';
import { createSecretBox, loadSecretBox } from '../../../src/adapters/keys/secret-box.js';

const key = (keyId: string) => ({ keyId, key: createSecretKey(randomBytes(32)) });
const ctx = { orgId: 'org_a', subscriptionId: 'wh_1', version: 1 };

describe('webhook secret box (AES-256-GCM)', () => {
  it('opens what it sealed, and the ciphertext does not contain the secret', () => {
    const box = createSecretBox([key('k1')]);
    const plain = randomBytes(32);
    const sealed = box.seal(new Secret(Buffer.from(plain)), ctx);
    assert.equal(sealed.keyId, 'k1');
    assert.equal(sealed.ciphertext.length, 12 + 32 + 16);
    assert.equal(sealed.ciphertext.indexOf(plain), -1);
    assert.deepEqual(box.open(sealed, ctx).bytes(), plain);
  });

  it('refuses to open under another org, subscription or version (AAD), or when tampered', () => {
    const box = createSecretBox([key('k1')]);
    const sealed = box.seal(new Secret(randomBytes(32)), ctx);
    for (const other of [
      { ...ctx, orgId: 'org_b' },
      { ...ctx, subscriptionId: 'wh_2' },
      { ...ctx, version: 2 },
    ])
      assert.throws(() => box.open(sealed, other));
    const flipped = Buffer.from(sealed.ciphertext);
    flipped[20] = (flipped[20] ?? 0) ^ 1;
    assert.throws(() => box.open({ ...sealed, ciphertext: flipped }, ctx));
  });

  it('seals with the first key and still opens with older ones', () => {
    const [oldKey, newKey] = [key('old'), key('new')];
    const sealedOld = createSecretBox([oldKey]).seal(new Secret(randomBytes(32)), ctx);
    const box = createSecretBox([newKey, oldKey]);
    assert.equal(box.seal(new Secret(randomBytes(32)), ctx).keyId, 'new');
    assert.equal(box.open(sealedOld, ctx).bytes().length, 32);
    assert.throws(() => createSecretBox([newKey]).open(sealedOld, ctx), /"old" is not configured/);
  });

  it('loads the stack key file, and refuses a file that is not a 256-bit oct JWK', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fortress-webhook-key-'));
    try {
      const file = await ensureWebhookKey(dir);
      assert.equal(await ensureWebhookKey(dir), file, 'made once');
      const box = await loadSecretBox([file]);
      assert.equal(box.open(box.seal(new Secret('x'), ctx), ctx).reveal(), 'x');
      const short = join(dir, 'short.jwk');
      await writeFile(
        short,
        JSON.stringify({ kty: 'oct', k: randomBytes(16).toString('base64url'), kid: 's' }),
      );
      await assert.rejects(loadSecretBox([short]), /not hold a 256-bit key/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
