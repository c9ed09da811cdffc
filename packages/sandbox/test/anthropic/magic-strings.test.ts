import assert from 'node:assert/strict';
import { readTriggers } from '../../src/anthropic/magic-strings.js';

describe('readTriggers', () => {
  it('finds nothing in ordinary text', () => {
    assert.deepEqual(readTriggers('hello FAKE world'), {
      failure: undefined,
      midstreamError: false,
      unknownEvent: false,
      chunkDelayMs: undefined,
      toolUse: false,
      webSearches: undefined,
    });
  });

  it('does not read FAKE_OVERLOADED inside FAKE_OVERLOADED_MIDSTREAM', () => {
    const triggers = readTriggers('FAKE_OVERLOADED_MIDSTREAM');
    assert.equal(triggers.failure, undefined);
    assert.equal(triggers.midstreamError, true);
    assert.equal(readTriggers('x FAKE_OVERLOADED y').failure?.status, 529);
  });

  const slow = [
    { name: 'the default delay', text: 'FAKE_SLOW_STREAM', delay: 50 },
    { name: 'an explicit delay', text: 'go FAKE_SLOW_STREAM:250 now', delay: 250 },
    { name: 'no delay when absent', text: 'FAKE_SLOW', delay: undefined },
  ];
  for (const c of slow) {
    it(`reads ${c.name} from FAKE_SLOW_STREAM`, () => {
      assert.equal(readTriggers(c.text).chunkDelayMs, c.delay);
    });
  }

  it('reads the number of web searches, one by default', () => {
    assert.equal(readTriggers('find it FAKE_WEB_SEARCH').webSearches, 1);
    assert.equal(readTriggers('find it FAKE_WEB_SEARCH:3 please').webSearches, 3);
    assert.equal(readTriggers('FAKE_WEB').webSearches, undefined);
  });

  it('sends retry-after with the rate limit failure', () => {
    assert.deepEqual(readTriggers('FAKE_RATE_LIMIT').failure?.headers, { 'retry-after': '7' });
  });
});
