import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { createCa, issueServiceCert } from '@fortress/harness/certs/issue-certs';
import { parseSubjectAltName, spiffeIdOf } from '../src/spiffe-id.js';
import { spiffeId } from '../src/tls.js';

/** A peer certificate as Node's TLS socket reports it, reduced to its SAN string. */
const peer = (subjectaltname: string | undefined) => ({ subjectaltname }) as PeerCertificate;

describe('spiffeIdOf', () => {
  const cases: Array<{ name: string; san: string | undefined; expected: string | undefined }> = [
    { name: 'one URI SAN', san: 'URI:spiffe://fortress/edge', expected: 'spiffe://fortress/edge' },
    {
      name: 'one URI SAN among DNS and IP SANs',
      san: 'DNS:localhost, IP Address:127.0.0.1, URI:spiffe://fortress/vault',
      expected: 'spiffe://fortress/vault',
    },
    { name: 'no SAN at all', san: undefined, expected: undefined },
    { name: 'an empty SAN', san: '', expected: undefined },
    { name: 'only DNS SANs', san: 'DNS:edge.fortress.local, DNS:localhost', expected: undefined },
    { name: 'a URI SAN that is not SPIFFE', san: 'URI:https://fortress/edge', expected: undefined },
    { name: 'a SPIFFE id without a path', san: 'URI:spiffe://fortress', expected: undefined },
    {
      name: 'two SPIFFE URI SANs',
      san: 'URI:spiffe://fortress/edge, URI:spiffe://fortress/vault',
      expected: undefined,
    },
    {
      // What Node reports (checked with a certificate made by openssl) for a single URI SAN that
      // tries to smuggle a second one in with commas: the value is quoted, the commas escaped.
      name: 'a single URI SAN that embeds ", URI:spiffe://…"',
      san: 'URI:"spiffe://evil/a\\u002c URI:spiffe://fortress/edge\\u002c x"',
      expected: undefined,
    },
    {
      name: 'a SAN string that does not parse',
      san: 'URI:"spiffe://fortress/edge',
      expected: undefined,
    },
  ];
  for (const c of cases) {
    it(`returns ${c.expected ?? 'undefined'} for ${c.name}`, () => {
      assert.equal(spiffeIdOf(peer(c.san)), c.expected);
    });
  }

  it('reads the URI SAN of a real certificate issued by the local CA', async () => {
    const ca = await createCa();
    const leaf = await issueServiceCert(ca, 'edge');
    assert.equal(spiffeIdOf(new X509Certificate(leaf.certPem)), spiffeId('edge'));
  });

  it('finds nothing in a CA certificate, which has no URI SAN', async () => {
    const ca = await createCa();
    assert.equal(spiffeIdOf(new X509Certificate(ca.certPem)), undefined);
  });
});

describe('parseSubjectAltName', () => {
  it('splits entries into [type, value] pairs and unquotes quoted values', () => {
    assert.deepEqual(
      parseSubjectAltName('DNS:localhost, IP Address:::1, URI:"spiffe://a\\u002cb"'),
      [
        ['DNS', 'localhost'],
        ['IP Address', '::1'],
        ['URI', 'spiffe://a,b'],
      ],
    );
  });

  it('returns undefined for text that is not a SAN list', () => {
    assert.equal(parseSubjectAltName(':no-type'), undefined);
  });
});
