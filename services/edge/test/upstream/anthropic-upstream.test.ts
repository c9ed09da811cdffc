import assert from 'node:assert/strict';
import { clientHeaders, upstreamHeaders } from '../../src/upstream/anthropic-upstream.js';

describe('upstreamHeaders', () => {
  const never = [
    'x-api-key',
    'authorization',
    'proxy-authorization',
    'cookie',
    'host',
    'x-forwarded-for',
    'x-real-ip',
    'forwarded',
    'connection',
    'transfer-encoding',
    'content-length',
    'x-fortress-request-id',
    'anthropic-api-key',
    'anthropic-key',
    'anthropic-admin-key',
    'anthropic-api-key-2',
    // Only the headers the API documents for requests travel; CORS is Fortress's business.
    'anthropic-dangerous-direct-browser-access',
    'anthropic-auth-token',
  ];
  for (const name of never) {
    it(`never forwards "${name}"`, () => {
      const out = upstreamHeaders({ [name]: 'client-value', 'content-type': 'application/json' });
      assert.equal(out[name], undefined);
      assert.ok(!Object.values(out).includes('client-value'));
    });
  }

  const forwarded = [
    { name: 'anthropic-version', value: '2023-06-01' },
    { name: 'anthropic-beta', value: 'prompt-caching-2024-07-31' },
    { name: 'content-type', value: 'application/json' },
    { name: 'accept', value: 'application/json' },
    { name: 'user-agent', value: 'Anthropic/JS 1.12.0' },
    { name: 'x-stainless-lang', value: 'js' },
    { name: 'x-stainless-retry-count', value: '0' },
    { name: 'x-stainless-timeout', value: '600' },
  ];
  for (const h of forwarded) {
    it(`forwards "${h.name}" unchanged`, () => {
      assert.deepEqual(upstreamHeaders({ [h.name]: h.value }), { [h.name]: h.value });
    });
  }

  const encodings = [
    { name: 'keeps gzip', value: 'gzip, deflate', expected: 'gzip, deflate' },
    {
      name: 'drops codings the usage tap cannot read',
      value: 'gzip, compress, x-custom',
      expected: 'gzip',
    },
    {
      name: 'keeps quality values',
      value: 'br;q=1.0, gzip;q=0.5',
      expected: 'br;q=1.0, gzip;q=0.5',
    },
    { name: 'asks for identity when nothing is readable', value: 'compress', expected: undefined },
  ];
  for (const e of encodings) {
    it(`narrows accept-encoding: ${e.name}`, () => {
      assert.equal(upstreamHeaders({ 'accept-encoding': e.value })['accept-encoding'], e.expected);
    });
  }

  it('joins a repeated header into one value', () => {
    assert.deepEqual(upstreamHeaders({ 'anthropic-beta': ['a-1', 'b-2'] }), {
      'anthropic-beta': 'a-1, b-2',
    });
  });

  it('forwards only the allowed subset of a typical SDK request', () => {
    const out = upstreamHeaders({
      host: 'fortress.local',
      'x-api-key': 'fk_live_x',
      authorization: 'Bearer eyJ.x.y',
      cookie: 'session=1',
      'anthropic-version': '2023-06-01',
      'content-type': 'application/json',
      'x-stainless-os': 'Linux',
    });
    assert.deepEqual(Object.keys(out).sort(), [
      'anthropic-version',
      'content-type',
      'x-stainless-os',
    ]);
  });
});

describe('clientHeaders', () => {
  const kept = [
    { name: 'request-id', value: 'req_011CTest' },
    { name: 'anthropic-ratelimit-requests-remaining', value: '49' },
    { name: 'anthropic-ratelimit-tokens-reset', value: '2026-11-22T12:00:00Z' },
    { name: 'retry-after', value: '3' },
    { name: 'content-encoding', value: 'gzip' },
    { name: 'content-type', value: 'text/event-stream; charset=utf-8' },
    { name: 'x-should-retry', value: 'false' },
  ];
  for (const h of kept) {
    it(`passes "${h.name}" back`, () =>
      assert.deepEqual(clientHeaders({ [h.name]: h.value }), { [h.name]: h.value }));
  }

  const dropped = [
    'set-cookie',
    'connection',
    'keep-alive',
    'transfer-encoding',
    'server',
    'cf-ray',
    'via',
    'x-envoy-upstream-service-time',
    // The id of Fortress's own Anthropic account is none of the client's business.
    'anthropic-organization-id',
  ];
  for (const name of dropped) {
    it(`drops "${name}"`, () =>
      assert.deepEqual(clientHeaders({ [name]: 'x', 'request-id': 'r' }), { 'request-id': 'r' }));
  }

  it('drops a repeated set-cookie array', () => {
    assert.deepEqual(clientHeaders({ 'set-cookie': ['a=1', 'b=2'] }), {});
  });
});
