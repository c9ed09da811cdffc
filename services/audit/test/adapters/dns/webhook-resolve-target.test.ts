import assert from 'node:assert/strict';
import { resolveTarget, type Lookup } from '../../../src/adapters/dns/resolve-target.js';
import { parseWebhookUrl } from '../../../src/domain/webhook-url.js';

const answers =
  (table: Record<string, string[]>): Lookup =>
  (host) => {
    const addresses = table[host];
    if (!addresses) return Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };

const lookup = answers({
  'public.test': ['93.184.215.14', '2606:4700:4700::1111'],
  'mixed.test': ['93.184.215.14', '10.0.0.7'],
  'metadata.test': ['169.254.169.254'],
  'v6loop.test': ['::1'],
});

describe('resolveTarget', () => {
  const check = (raw: string, mode: 'production' | 'development' = 'production') =>
    resolveTarget(parseWebhookUrl('url', raw, mode), mode, lookup);

  it('returns the first address when every address is public', async () => {
    assert.deepEqual(await check('https://public.test/'), {
      ok: true,
      address: { address: '93.184.215.14', family: 4 },
    });
  });

  it('refuses a name with one private address among public ones', async () => {
    assert.deepEqual(await check('https://mixed.test/'), {
      ok: false,
      error: 'address_refused',
      address: '10.0.0.7',
      range: 'private',
    });
  });

  it('refuses names that resolve to metadata or loopback addresses, and literals without DNS', async () => {
    assert.equal(
      ((await check('https://metadata.test/')) as { range: string }).range,
      'link_local',
    );
    assert.equal(((await check('https://v6loop.test/')) as { range: string }).range, 'loopback');
    assert.equal(((await check('https://[fe80::1]/')) as { range: string }).range, 'link_local');
  });

  it('reports a name that does not resolve', async () => {
    assert.deepEqual(await check('https://nowhere.test/'), { ok: false, error: 'dns_failed' });
  });

  it('checks no address in development mode', async () => {
    assert.equal((await check('https://mixed.test/', 'development')).ok, true);
  });

  it('asks the system resolver by default: localhost is loopback', async () => {
    const r = await resolveTarget(
      parseWebhookUrl('url', 'https://localhost./', 'development'),
      'production',
    );
    assert.equal(r.ok, false);
  });
});
