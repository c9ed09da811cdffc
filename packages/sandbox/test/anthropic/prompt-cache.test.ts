import assert from 'node:assert/strict';
import { createPromptCache } from '../../src/anthropic/prompt-cache.js';
import type { CacheBreakpoint } from '../../src/anthropic/token-estimate.js';

function bp(
  tokens: number,
  fingerprint: string,
  ttl: '5m' | '1h' = '5m',
  lookback: CacheBreakpoint['lookback'] = [],
): CacheBreakpoint {
  return { tokens, fingerprint, ttl, lookback };
}

describe('createPromptCache', () => {
  const t0 = 1_700_000_000_000;

  it('writes on a miss, reads on a hit and expires after the TTL', () => {
    const cache = createPromptCache();
    assert.deepEqual(cache.account('s', [bp(100, 'a')], t0), {
      read: 0,
      creation5m: 100,
      creation1h: 0,
    });
    assert.deepEqual(cache.account('s', [bp(100, 'a')], t0 + 60_000), {
      read: 100,
      creation5m: 0,
      creation1h: 0,
    });
    // The hit at +1 min refreshed the 5-minute TTL, so +5.5 min still hits; +12 min does not.
    assert.equal(cache.account('s', [bp(100, 'a')], t0 + 330_000).read, 100);
    assert.equal(cache.account('s', [bp(100, 'a')], t0 + 330_000 + 300_001).read, 0);
  });

  it('keeps scopes apart', () => {
    const cache = createPromptCache();
    cache.account('key-1', [bp(50, 'a')], t0);
    assert.equal(cache.account('key-2', [bp(50, 'a')], t0).read, 0);
  });

  it('bills each stretch at the TTL of the breakpoint that closes it, after the longest hit', () => {
    const cache = createPromptCache();
    cache.account('s', [bp(40, 'tools', '1h')], t0);
    const usage = cache.account(
      's',
      [bp(40, 'tools', '1h'), bp(90, 'system', '1h'), bp(130, 'turn', '5m')],
      t0,
    );
    assert.deepEqual(usage, { read: 40, creation5m: 40, creation1h: 50 });
  });

  it('finds a hit through a breakpoint lookback boundary', () => {
    const cache = createPromptCache();
    cache.account('s', [bp(70, 'turn-1')], t0);
    const usage = cache.account(
      's',
      [
        bp(120, 'turn-2', '5m', [
          { tokens: 100, fingerprint: 'x' },
          { tokens: 70, fingerprint: 'turn-1' },
        ]),
      ],
      t0,
    );
    assert.deepEqual(usage, { read: 70, creation5m: 50, creation1h: 0 });
  });

  it('evicts the least recently used entry beyond maxEntries', () => {
    const cache = createPromptCache(2);
    cache.account('s', [bp(1, 'a')], t0);
    cache.account('s', [bp(1, 'b')], t0);
    cache.account('s', [bp(1, 'a')], t0);
    cache.account('s', [bp(1, 'c')], t0);
    assert.equal(cache.account('s', [bp(1, 'a')], t0).read, 1);
    assert.equal(cache.account('s', [bp(1, 'b')], t0).read, 0);
  });
});
