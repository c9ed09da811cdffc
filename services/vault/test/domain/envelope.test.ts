import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, seal, SECRET_FORMAT, type SecretBinding } from '../../src/domain/envelope.js';

const binding: SecretBinding = { orgId: 'org_v1', credentialId: 'cred_c1', version: 1 };
const secret = Buffer.from('sk-ant-api03-canary-0123456789');

describe('envelope seal/open', () => {
  const key = randomBytes(32);

  it('opens what it sealed', () => {
    assert.deepEqual(open(key, seal(key, secret, binding), binding), secret);
  });

  it('opens an empty secret', () => {
    assert.deepEqual(open(key, seal(key, Buffer.alloc(0), binding), binding), Buffer.alloc(0));
  });

  it('lays out 0x02 || iv(12) || tag(16) || ciphertext, the secret never in the clear', () => {
    const sealed = seal(key, secret, binding);
    assert.equal(sealed[0], 0x02);
    assert.equal(sealed.length, 1 + 12 + 16 + secret.length);
    assert.equal(sealed.indexOf(secret), -1);
  });

  it('uses a fresh IV each time: the same secret seals to different bytes', () => {
    const sealings = Array.from({ length: 50 }, () => seal(key, secret, binding));
    assert.equal(new Set(sealings.map((s) => s.toString('hex'))).size, 50);
    assert.equal(new Set(sealings.map((s) => s.subarray(1, 13).toString('hex'))).size, 50);
  });

  it('fails to open with another key', () => {
    assert.throws(() => open(randomBytes(32), seal(key, secret, binding), binding));
  });

  const moved = [
    { name: 'another org', to: { ...binding, orgId: 'org_v2' } },
    { name: 'another credential id', to: { ...binding, credentialId: 'cred_c2' } },
    { name: 'another version', to: { ...binding, version: 2 } },
  ];
  for (const c of moved) {
    it(`fails to open a ciphertext moved to ${c.name}`, () => {
      assert.throws(() => open(key, seal(key, secret, binding), c.to), /unable to authenticate/);
    });
  }

  it('fails to open after any single-bit flip in any byte', () => {
    const sealed = seal(key, secret, binding);
    let tried = 0;
    for (let byte = 0; byte < sealed.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const altered = Buffer.from(sealed);
        altered[byte] = (altered[byte] ?? 0) ^ (1 << bit);
        assert.throws(() => open(key, altered, binding), Error, `byte ${byte} bit ${bit}`);
        tried += 1;
      }
    }
    assert.equal(tried, sealed.length * 8);
  });

  it('still opens the legacy format 0x01 (sealed directly under a data key)', () => {
    const legacy = seal(key, secret, binding, SECRET_FORMAT.legacy);
    assert.equal(legacy[0], 0x01);
    assert.deepEqual(open(key, legacy, binding), secret);
  });

  it('fails to open a ciphertext relabelled as the other format (the format is in the AAD)', () => {
    for (const [from, to] of [
      [SECRET_FORMAT.current, SECRET_FORMAT.legacy],
      [SECRET_FORMAT.legacy, SECRET_FORMAT.current],
    ] as const) {
      const relabelled = seal(key, secret, binding, from);
      relabelled[0] = to;
      assert.throws(() => open(key, relabelled, binding), /unable to authenticate/);
    }
  });

  const malformed = [
    {
      name: 'format byte 0x03',
      make: (s: Buffer) => Buffer.concat([Buffer.from([0x03]), s.subarray(1)]),
    },
    {
      name: 'format byte 0x00',
      make: (s: Buffer) => Buffer.concat([Buffer.from([0x00]), s.subarray(1)]),
    },
    { name: 'a ciphertext shorter than its header', make: (s: Buffer) => s.subarray(0, 28) },
    { name: 'an empty buffer', make: () => Buffer.alloc(0) },
  ];
  for (const c of malformed) {
    it(`refuses ${c.name} as an unsupported format`, () => {
      assert.throws(
        () => open(key, c.make(seal(key, secret, binding)), binding),
        /unsupported ciphertext format/,
      );
    });
  }

  it('fails to open a ciphertext cut short after its header', () => {
    const sealed = seal(key, secret, binding);
    assert.throws(
      () => open(key, sealed.subarray(0, sealed.length - 1), binding),
      /unable to authenticate/,
    );
  });
});
