import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createDataKeyCache } from '../../src/domain/data-key-cache.js';

const isZero = (b: Buffer) => b.every((x) => x === 0);

/** A cache on a clock the test moves by hand. */
function cacheAt(options: { maxAgeMs: number; maxUses: number }) {
  const clock = { now: 1_000_000 };
  const cache = createDataKeyCache({ ...options, now: () => clock.now });
  return { cache, clock };
}

describe('createDataKeyCache', () => {
  it('has nothing for an id never stored', () => {
    const { cache } = cacheAt({ maxAgeMs: 1000, maxUses: 10 });
    assert.equal(cache.take('org_a#1'), undefined);
  });

  it('serves copies of the key it was given, per id', () => {
    const { cache } = cacheAt({ maxAgeMs: 1000, maxUses: 10 });
    const a = randomBytes(32);
    const b = randomBytes(32);
    cache.put('org_a#1', Buffer.from(a));
    cache.put('org_b#1', Buffer.from(b));
    const took = cache.take('org_a#1');
    assert.deepEqual(took, a);
    assert.deepEqual(cache.take('org_b#1'), b);
    assert.equal(cache.size, 2);
    took?.fill(0);
    assert.deepEqual(cache.take('org_a#1'), a, 'zeroing a copy leaves the cached key intact');
  });

  it('serves a key maxUses times in all (put counts as the first), then zeroes and drops it', () => {
    const { cache } = cacheAt({ maxAgeMs: 60_000, maxUses: 3 });
    const key = randomBytes(32);
    cache.put('org_a#1', key);
    assert.deepEqual(cache.take('org_a#1'), key);
    assert.deepEqual(cache.take('org_a#1'), key);
    assert.ok(!isZero(key));
    assert.equal(cache.take('org_a#1'), undefined);
    assert.ok(isZero(key));
    assert.equal(cache.size, 0);
  });

  it('serves a key until just before maxAgeMs, then zeroes and drops it', () => {
    const { cache, clock } = cacheAt({ maxAgeMs: 5000, maxUses: 1000 });
    const key = randomBytes(32);
    cache.put('org_a#1', key);
    clock.now += 4999;
    assert.deepEqual(cache.take('org_a#1'), key);
    clock.now += 1;
    assert.equal(cache.take('org_a#1'), undefined);
    assert.ok(isZero(key));
    assert.equal(cache.size, 0);
  });

  it('restarts the bounds when a key is put again', () => {
    const { cache, clock } = cacheAt({ maxAgeMs: 5000, maxUses: 2 });
    cache.put('org_a#1', randomBytes(32));
    clock.now += 4000;
    const fresh = randomBytes(32);
    cache.put('org_a#1', fresh);
    clock.now += 4000;
    assert.deepEqual(cache.take('org_a#1'), fresh);
  });

  it('zeroes the old key when put replaces it', () => {
    const { cache } = cacheAt({ maxAgeMs: 60_000, maxUses: 10 });
    const old = randomBytes(32);
    const fresh = randomBytes(32);
    cache.put('org_a#1', old);
    cache.put('org_a#1', fresh);
    assert.ok(isZero(old));
    assert.ok(!isZero(fresh));
    assert.deepEqual(cache.take('org_a#1'), fresh);
    assert.equal(cache.size, 1);
  });

  it('zeroes and drops every key on clear', () => {
    const { cache } = cacheAt({ maxAgeMs: 60_000, maxUses: 10 });
    const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    keys.forEach((k, i) => cache.put(`org_${i}#1`, k));
    cache.clear();
    assert.ok(keys.every(isZero));
    assert.equal(cache.size, 0);
    assert.equal(cache.take('org_0#1'), undefined);
  });
});

describe('createDataKeyCache, per entry', () => {
  it('keeps an entry only for the bounds it was put with (a Bank key ages out sooner)', () => {
    const { cache, clock } = cacheAt({ maxAgeMs: 60_000, maxUses: 1000 });
    const bank = randomBytes(32);
    cache.put('org_bank/1', bank, { maxAgeMs: 1000, maxUses: 1000 });
    cache.put('org_soho/1', randomBytes(32));
    clock.now += 1000;
    assert.equal(cache.take('org_bank/1'), undefined);
    assert.ok(isZero(bank));
    assert.ok(cache.take('org_soho/1'));
  });

  it('drops one id, or every id of an org, zeroing them', () => {
    const { cache } = cacheAt({ maxAgeMs: 60_000, maxUses: 1000 });
    const keys = [randomBytes(32), randomBytes(32), randomBytes(32)];
    cache.put('org_a/1', keys[0] ?? Buffer.alloc(0));
    cache.put('org_a/2', keys[1] ?? Buffer.alloc(0));
    cache.put('org_ab/1', keys[2] ?? Buffer.alloc(0));
    cache.drop('org_a/1');
    assert.ok(isZero(keys[0] ?? Buffer.alloc(1)));
    cache.dropPrefix('org_a/');
    assert.ok(isZero(keys[1] ?? Buffer.alloc(1)));
    assert.ok(!isZero(keys[2] ?? Buffer.alloc(1)), 'org_ab is another org');
    assert.equal(cache.size, 1);
  });
});
