import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  hashRefreshToken,
  issueRefreshToken,
  refreshTokenOrg,
} from '../../src/domain/refresh-token.js';

describe('refresh tokens', () => {
  it('are frt_<org>.<43 base64url characters> (256 random bits), stored as their SHA-256', () => {
    const { token, hash } = issueRefreshToken('org_demo');
    assert.match(token, /^frt_org_demo\.[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(hash, createHash('sha256').update(token).digest());
    assert.deepEqual(hashRefreshToken(token), hash);
  });

  it('never repeat', () => {
    const seen = new Set(Array.from({ length: 2000 }, () => issueRefreshToken('org_a1').token));
    assert.equal(seen.size, 2000);
  });

  const good = issueRefreshToken('org_abc123').token;
  const cases = [
    { name: 'an issued token', value: good, org: 'org_abc123' },
    { name: 'an empty value', value: '', org: undefined },
    { name: 'an org key', value: `fk_live_${'A'.repeat(43)}`, org: undefined },
    { name: 'a token with no org', value: `frt_.${'A'.repeat(43)}`, org: undefined },
    { name: 'a bad org id', value: good.replace('org_abc123', 'ORG_x'), org: undefined },
    { name: 'a short secret', value: good.slice(0, -1), org: undefined },
    { name: 'a trailing newline', value: `${good}\n`, org: undefined },
    { name: 'a JWT', value: 'eyJhbGciOiJFZERTQSJ9.e30.sig', org: undefined },
  ];
  for (const c of cases) {
    it(`name ${c.org ?? 'no org'} for ${c.name}`, () =>
      assert.equal(refreshTokenOrg(c.value), c.org));
  }
});
