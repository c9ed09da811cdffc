import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { refusedRange } from '@fortress/kit/ip-ranges';
import { parseWebhookUrl } from '../../src/domain/webhook-url.js';

describe('webhook target address ranges', () => {
  const cases: Array<{ name: string; ip: string; want: string | undefined }> = [
    { name: 'public IPv4', ip: '93.184.215.14', want: undefined },
    { name: 'public IPv6', ip: '2606:4700:4700::1111', want: undefined },
    { name: 'this network', ip: '0.0.0.0', want: 'unspecified' },
    { name: '10/8', ip: '10.1.2.3', want: 'private' },
    { name: '172.16/12, low end', ip: '172.16.0.1', want: 'private' },
    { name: '172.16/12, high end', ip: '172.31.255.254', want: 'private' },
    { name: 'just past 172.16/12', ip: '172.32.0.1', want: undefined },
    { name: '192.168/16', ip: '192.168.1.1', want: 'private' },
    { name: 'loopback', ip: '127.0.0.1', want: 'loopback' },
    { name: 'loopback, elsewhere in 127/8', ip: '127.255.0.9', want: 'loopback' },
    { name: 'cloud metadata', ip: '169.254.169.254', want: 'link_local' },
    { name: 'CGNAT', ip: '100.64.0.1', want: 'shared' },
    { name: 'CGNAT high end', ip: '100.127.255.255', want: 'shared' },
    { name: 'just past CGNAT', ip: '100.128.0.1', want: undefined },
    { name: 'multicast', ip: '224.0.0.251', want: 'multicast' },
    { name: 'broadcast', ip: '255.255.255.255', want: 'reserved' },
    { name: 'benchmarking', ip: '198.18.0.1', want: 'reserved' },
    { name: 'documentation', ip: '203.0.113.7', want: 'documentation' },
    { name: 'IPv6 unspecified', ip: '::', want: 'unspecified' },
    { name: 'IPv6 loopback', ip: '::1', want: 'loopback' },
    { name: 'IPv6 unique local', ip: 'fd00::1', want: 'private' },
    { name: 'IPv6 link-local', ip: 'fe80::1', want: 'link_local' },
    { name: 'IPv6 multicast', ip: 'ff02::1', want: 'multicast' },
    { name: 'IPv4-mapped private', ip: '::ffff:10.0.0.1', want: 'private' },
    { name: 'IPv4-mapped private, hex form', ip: '::ffff:a00:1', want: 'private' },
    { name: 'IPv4-mapped loopback', ip: '::ffff:127.0.0.1', want: 'loopback' },
    { name: 'IPv4-mapped metadata', ip: '::ffff:169.254.169.254', want: 'link_local' },
    { name: 'IPv4-mapped public', ip: '::ffff:93.184.215.14', want: undefined },
    { name: 'IPv4-compatible (deprecated)', ip: '::8.8.8.8', want: 'reserved' },
    { name: 'NAT64 of a private address', ip: '64:ff9b::10.0.0.1', want: 'private' },
    { name: 'NAT64 of a public address', ip: '64:ff9b::93.184.215.14', want: undefined },
    { name: '6to4 of loopback', ip: '2002:7f00:1::1', want: 'loopback' },
    { name: 'Teredo', ip: '2001:0:4136:e378:8000:63bf:3fff:fdd2', want: 'reserved' },
    { name: 'documentation IPv6', ip: '2001:db8::1', want: 'documentation' },
    { name: 'not an address', ip: 'example.com', want: 'not_an_ip' },
  ];
  for (const c of cases)
    it(`classifies ${c.name} (${c.ip}) as ${c.want ?? 'public'}`, () => {
      assert.equal(refusedRange(c.ip), c.want);
    });
});

describe('parseWebhookUrl', () => {
  const refused = (raw: string, mode: 'production' | 'development', why: RegExp) =>
    assert.throws(
      () => parseWebhookUrl('url', raw, mode),
      (err: unknown) =>
        err instanceof InvalidArgumentError && err.field === 'url' && why.test(err.message),
    );

  it('accepts https anywhere and normalises the URL (no fragment)', () => {
    const u = parseWebhookUrl('url', ' https://Hooks.Example.com:8443/a?b=1#frag ', 'production');
    assert.equal(u.href, 'https://hooks.example.com:8443/a?b=1');
    assert.equal(u.host, 'hooks.example.com');
    assert.equal(u.literal, false);
  });

  it('reads IP literals in their canonical form (decimal, hex, bracketed IPv6)', () => {
    assert.equal(parseWebhookUrl('url', 'https://2130706433/', 'production').host, '127.0.0.1');
    assert.equal(parseWebhookUrl('url', 'https://0x7f.1/', 'production').host, '127.0.0.1');
    const v6 = parseWebhookUrl('url', 'https://[::ffff:10.0.0.1]/', 'production');
    assert.equal(v6.host, '::ffff:a00:1');
    assert.equal(v6.literal, true);
  });

  const table = [
    {
      name: 'http in production',
      raw: 'http://hooks.example.com/',
      mode: 'production',
      why: /must use https/,
    },
    {
      name: 'http to loopback in production',
      raw: 'http://127.0.0.1:8080/',
      mode: 'production',
      why: /must use https/,
    },
    {
      name: 'http to a remote host in development',
      raw: 'http://hooks.example.com/',
      mode: 'development',
      why: /http only for a loopback host/,
    },
    {
      name: 'http to a private address in development',
      raw: 'http://10.0.0.1/',
      mode: 'development',
      why: /http only for a loopback host/,
    },
    {
      name: 'another scheme',
      raw: 'ftp://hooks.example.com/',
      mode: 'production',
      why: /must use https/,
    },
    {
      name: 'javascript:',
      raw: 'javascript:alert(1)',
      mode: 'development',
      why: /must use https|has no host/,
    },
    {
      name: 'file:',
      raw: 'file:///etc/passwd',
      mode: 'development',
      why: /has no host|must use https/,
    },
    {
      name: 'credentials',
      raw: 'https://user:pw@hooks.example.com/',
      mode: 'production',
      why: /user name or password/,
    },
    {
      name: 'localhost by name in production',
      raw: 'https://localhost/',
      mode: 'production',
      why: /this machine/,
    },
    {
      name: 'a .localhost name in production',
      raw: 'https://api.localhost/',
      mode: 'production',
      why: /this machine/,
    },
    { name: 'not a URL', raw: 'hooks.example.com/x', mode: 'production', why: /is not a URL/ },
    {
      name: 'too long',
      raw: `https://hooks.example.com/${'a'.repeat(2100)}`,
      mode: 'production',
      why: /at most 2048/,
    },
  ] as const;
  for (const c of table) it(`refuses ${c.name}`, () => refused(c.raw, c.mode, c.why));

  it('allows http to a loopback host in development mode only', () => {
    for (const raw of ['http://127.0.0.1:9/x', 'http://[::1]:9/x', 'http://localhost:9/x'])
      assert.equal(parseWebhookUrl('url', raw, 'development').url.protocol, 'http:');
  });
});
