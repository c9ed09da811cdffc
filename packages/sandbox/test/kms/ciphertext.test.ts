import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  KEY_MATERIAL_BYTES,
  blobKeyId,
  canonicalContext,
  openBlob,
  sealBlob,
} from '../../src/kms/ciphertext.js';

describe('ciphertext blob', () => {
  const keyId = randomUUID();
  const material = randomBytes(KEY_MATERIAL_BYTES);
  const context = { b: '2', a: '1' };

  it('names its key and opens under the same material and context', () => {
    const blob = sealBlob(keyId, material, Buffer.from('data key'), context);
    assert.equal(blobKeyId(blob), keyId);
    assert.deepEqual(openBlob(blob, material, { a: '1', b: '2' }), Buffer.from('data key'));
  });

  it('fails to open when any single bit of the blob is flipped', () => {
    const blob = sealBlob(keyId, material, randomBytes(32), context);
    const opened: number[] = [];
    for (let bit = 0; bit < blob.length * 8; bit += 1) {
      const tampered = Buffer.from(blob);
      tampered[bit >> 3] = (tampered[bit >> 3] ?? 0) ^ (1 << (bit & 7));
      if (openBlob(tampered, material, context) !== undefined) opened.push(bit);
    }
    assert.deepEqual(opened, []);
  });

  it('fails to open under other key material', () => {
    const blob = sealBlob(keyId, material, Buffer.from('x'), context);
    assert.equal(openBlob(blob, randomBytes(KEY_MATERIAL_BYTES), context), undefined);
  });

  it('uses a fresh IV so equal plaintexts give different blobs', () => {
    const first = sealBlob(keyId, material, Buffer.from('same'), context);
    const second = sealBlob(keyId, material, Buffer.from('same'), context);
    assert.notDeepEqual(first, second);
  });

  it('canonicalises contexts by sorting keys and keeps pairs unambiguous', () => {
    assert.deepEqual(canonicalContext({ b: '2', a: '1' }), canonicalContext({ a: '1', b: '2' }));
    assert.notDeepEqual(canonicalContext({ ab: 'c' }), canonicalContext({ a: 'bc' }));
  });

  it('reports no key id when the blob is too short or of another version', () => {
    assert.equal(blobKeyId(Buffer.alloc(10)), undefined);
    const blob = sealBlob(keyId, material, Buffer.from('x'), {});
    blob[0] = 2;
    assert.equal(blobKeyId(blob), undefined);
  });
});
