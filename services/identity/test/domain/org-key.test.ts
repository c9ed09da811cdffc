import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  credentialShape,
  generateExchangedToken,
  generateOrgKey,
  hashOrgKey,
  isWellFormedOrgKey,
} from '../../src/domain/org-key.js';

const BASE62 = /^[A-Za-z0-9]+$/;

describe('generateOrgKey', () => {
  const environments = [
    { name: 'live', prefix: 'fk_live_' },
    { name: 'test', prefix: 'fk_test_' },
  ] as const;
  for (const env of environments) {
    it(`makes a well-formed ${env.name} key: "${env.prefix}" and 43 base62 characters`, () => {
      const { secret } = generateOrgKey(env.name);
      assert.ok(secret.startsWith(env.prefix), secret);
      const body = secret.slice(env.prefix.length);
      assert.equal(body.length, 43);
      assert.match(body, BASE62);
      assert.ok(isWellFormedOrgKey(secret));
    });
  }

  it('never repeats a key or a hash over many keys', () => {
    const secrets = new Set<string>();
    const hashes = new Set<string>();
    const bodies = new Set<string>();
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const key = generateOrgKey('live');
      secrets.add(key.secret);
      hashes.add(key.hash.toString('hex'));
      // the display prefix shows 4 characters of the body; the rest must still be unique
      bodies.add(key.secret.slice(12));
    }
    assert.equal(secrets.size, n);
    assert.equal(hashes.size, n);
    assert.equal(bodies.size, n);
  });

  it('draws 43 characters uniformly from all 62 (at least 256 bits per key)', () => {
    const counts = new Map<string, number>();
    const n = 2000;
    for (let i = 0; i < n; i++) {
      for (const ch of generateOrgKey('test').secret.slice('fk_test_'.length))
        counts.set(ch, (counts.get(ch) ?? 0) + 1);
    }
    assert.equal(counts.size, 62);
    assert.ok(43 * Math.log2(counts.size) >= 256);
    const expected = (n * 43) / 62;
    for (const [ch, count] of counts) {
      // ~1387 expected per character, sd ~37: a 20% band is over 7 sd wide
      assert.ok(Math.abs(count - expected) < expected * 0.2, `${ch}: ${count} vs ${expected}`);
    }
  });

  it('stores the SHA-256 of the whole key, prefix included', () => {
    const key = generateOrgKey('live');
    const whole = createHash('sha256').update(key.secret, 'utf8').digest();
    assert.equal(key.hash.length, 32);
    assert.deepEqual(key.hash, whole);
    assert.deepEqual(hashOrgKey(key.secret), whole);
    const bodyOnly = createHash('sha256').update(key.secret.slice(8), 'utf8').digest();
    assert.notDeepEqual(key.hash, bodyOnly);
  });

  it('shows the first 12 characters as the display prefix', () => {
    const key = generateOrgKey('live');
    assert.equal(key.displayPrefix.length, 12);
    assert.equal(key.displayPrefix, key.secret.slice(0, 12));
    assert.ok(key.displayPrefix.startsWith('fk_live_'));
  });
});

describe('isWellFormedOrgKey', () => {
  const good = generateOrgKey('live').secret;
  const cases = [
    { name: 'a generated key', value: good, ok: true },
    { name: 'an empty value', value: '', ok: false },
    { name: 'another environment', value: good.replace('fk_live_', 'fk_prod_'), ok: false },
    { name: 'a body one character short', value: good.slice(0, -1), ok: false },
    { name: 'a body one character long', value: `${good}A`, ok: false },
    { name: 'a non-base62 character', value: `${good.slice(0, -1)}-`, ok: false },
    { name: 'surrounding whitespace', value: ` ${good} `, ok: false },
    { name: 'a trailing newline', value: `${good}\n`, ok: false },
    {
      name: 'an Anthropic key',
      value: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      ok: false,
    },
  ];
  for (const c of cases) {
    it(`${c.ok ? 'accepts' : 'refuses'} ${c.name}`, () =>
      assert.equal(isWellFormedOrgKey(c.value), c.ok));
  }
});

describe('credentialShape and generateExchangedToken', () => {
  it('makes a Fortress token "fk_tok_" + 43 base62 characters, hashed like a key', () => {
    const tokens = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const t = generateExchangedToken();
      assert.match(t.secret, /^fk_tok_[A-Za-z0-9]{43}$/);
      assert.deepEqual(t.hash, hashOrgKey(t.secret));
      tokens.add(t.secret);
    }
    assert.equal(tokens.size, 100);
  });

  const body = 'A'.repeat(43);
  const cases = [
    { name: 'a live key', value: `fk_live_${body}`, shape: 'org_key' },
    { name: 'a test key', value: `fk_test_${body}`, shape: 'org_key' },
    { name: 'a Fortress token', value: `fk_tok_${body}`, shape: 'exchanged_token' },
    {
      name: 'a Fortress token one character short',
      value: `fk_tok_${body.slice(1)}`,
      shape: undefined,
    },
    { name: 'another fk_ prefix', value: `fk_foo_${body}`, shape: undefined },
    { name: 'a JWT', value: 'eyJhbGciOiJSUzI1NiJ9.e30.sig', shape: undefined },
  ];
  for (const c of cases) {
    it(`reads ${c.name} as ${String(c.shape)}`, () => {
      assert.equal(credentialShape(c.value), c.shape);
      assert.equal(isWellFormedOrgKey(c.value), c.shape === 'org_key');
    });
  }
});
