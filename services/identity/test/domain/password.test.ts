import assert from 'node:assert/strict';
import { scryptSync } from 'node:crypto';
import { InvalidArgumentError } from '@fortress/kit/errors';
import {
  dummyPasswordHash,
  hashPassword,
  requirePassword,
  verifyPassword,
} from '../../src/domain/password.js';

const FORMAT = /^scrypt\$N=16384,r=8,p=1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;
const PASSWORD = 'correct horse battery staple';

describe('hashPassword', () => {
  it('writes a self-describing scrypt hash: params, a 16-byte salt and a 32-byte hash', async () => {
    const stored = await hashPassword(PASSWORD);
    const m = FORMAT.exec(stored);
    assert.ok(m, stored);
    assert.equal(Buffer.from(m[1] ?? '', 'base64').length, 16);
    assert.equal(Buffer.from(m[2] ?? '', 'base64').length, 32);
    assert.ok(!stored.includes(PASSWORD));
  });

  it("is Node's own scrypt with the stated parameters", async () => {
    const m = FORMAT.exec(await hashPassword(PASSWORD));
    assert.ok(m);
    const expected = scryptSync(PASSWORD, Buffer.from(m[1] ?? '', 'base64'), 32, {
      N: 16384,
      r: 8,
      p: 1,
    });
    assert.equal(expected.toString('base64'), m[2]);
  });

  it('salts: the same password hashes differently each time', async () => {
    assert.notEqual(await hashPassword(PASSWORD), await hashPassword(PASSWORD));
  });
});

describe('verifyPassword', () => {
  let stored: string;
  before(async () => {
    stored = await hashPassword(PASSWORD);
  });

  it('accepts the password and refuses any other', async () => {
    assert.equal(await verifyPassword(PASSWORD, stored), true);
    assert.equal(await verifyPassword(`${PASSWORD} `, stored), false);
    assert.equal(await verifyPassword(PASSWORD.toUpperCase(), stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('treats composed and decomposed Unicode as the same password (NFKC)', async () => {
    const composed = 'mot de passe \u00e9t\u00e9 2026';
    const decomposed = 'mot de passe e\u0301te\u0301 2026';
    assert.equal(await verifyPassword(decomposed, await hashPassword(composed)), true);
  });

  const malformed = [
    { name: 'an empty value', stored: '' },
    { name: 'a plaintext password', stored: PASSWORD },
    {
      name: 'a bcrypt hash',
      stored: '$2b$12$abcdefghijklmnopqrstuuLVF2i6eHjm3t9y7r8yqgHLq2Dg3PD6',
    },
    {
      name: 'N not a power of two',
      stored: 'scrypt$N=16383,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==',
    },
    {
      name: 'N beyond the bound',
      stored: 'scrypt$N=4194304,r=8,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==',
    },
    {
      name: 'p of zero',
      stored: 'scrypt$N=16384,r=8,p=0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==',
    },
    {
      name: 'a salt too short',
      stored: 'scrypt$N=16384,r=8,p=1$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==',
    },
    { name: 'a missing hash', stored: 'scrypt$N=16384,r=8,p=1$c2FsdHNhbHRzYWx0$' },
  ];
  for (const c of malformed) {
    it(`never matches ${c.name}`, async () => {
      assert.equal(await verifyPassword(PASSWORD, c.stored), false);
    });
  }
});

describe('dummyPasswordHash', () => {
  it('is a real hash of the same cost that no likely password matches', async () => {
    const dummy = await dummyPasswordHash();
    assert.match(dummy, FORMAT);
    for (const guess of ['', 'password', PASSWORD])
      assert.equal(await verifyPassword(guess, dummy), false);
  });
});

describe('requirePassword', () => {
  const cases = [
    { name: '11 characters', value: 'a'.repeat(11), ok: false },
    { name: '12 characters', value: 'a'.repeat(12), ok: true },
    { name: '11 emoji (22 UTF-16 units)', value: '\u{1F510}'.repeat(11), ok: false },
    { name: '12 emoji', value: '\u{1F510}'.repeat(12), ok: true },
    { name: '1024 characters', value: 'a'.repeat(1024), ok: true },
    { name: '1025 characters', value: 'a'.repeat(1025), ok: false },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'refuses'} ${c.name}`, () => {
      if (c.ok) return assert.equal(requirePassword('password', c.value), c.value);
      assert.throws(
        () => requirePassword('password', c.value),
        (err: unknown) =>
          err instanceof InvalidArgumentError &&
          err.field === 'password' &&
          !err.message.includes(c.value),
      );
    });
  }
});
