import assert from 'node:assert/strict';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { startTestIdp, TEST_IDP_AUDIENCE, type TestIdp } from '../src/idp/test-idp.js';

describe('test IdP (oidc-provider on loopback)', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startTestIdp();
  });
  after(() => idp?.stop());

  const verify = (token: string, audience = TEST_IDP_AUDIENCE) =>
    jwtVerify(token, createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience });

  it('publishes its issuer and jwks_uri in its discovery document', async () => {
    const res = await fetch(`${idp.issuer}/.well-known/openid-configuration`);
    const doc = (await res.json()) as { issuer: string; jwks_uri: string };
    assert.equal(doc.issuer, idp.issuer);
    assert.equal(doc.jwks_uri, idp.jwksUri);
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('mints a user token that verifies with the keys at its jwks_uri, carrying the claims', async () => {
    const token = await idp.mintToken({
      sub: 'user-1',
      oid: '00000000-0000-0000-0000-0000000000a1',
      email: 'ada@bank.example',
      deviceid: 'dev-1',
      department: 'engineering',
      groups: ['g-admins'],
      claims: { location: 'Zurich' },
      lifetimeSeconds: 120,
    });
    const { payload, protectedHeader } = await verify(token);
    assert.equal(protectedHeader.alg, 'RS256');
    assert.equal(payload.sub, 'user-1');
    assert.equal(payload['oid'], '00000000-0000-0000-0000-0000000000a1');
    assert.equal(payload['email'], 'ada@bank.example');
    assert.equal(payload['deviceid'], 'dev-1');
    assert.equal(payload['department'], 'engineering');
    assert.deepEqual(payload['groups'], ['g-admins']);
    assert.equal(payload['location'], 'Zurich');
    assert.equal(payload.aud, TEST_IDP_AUDIENCE);
    assert.equal(payload.nbf, payload.iat);
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 120);
  });

  it('signs with its ES256 key and mints for another audience on request', async () => {
    const token = await idp.mintToken({ alg: 'ES256', audience: 'api://other' });
    assert.equal(decodeProtectedHeader(token).alg, 'ES256');
    const { payload } = await verify(token, 'api://other');
    assert.equal(payload.aud, 'api://other');
    await assert.rejects(verify(token), /unexpected "aud" claim value/);
  });

  it('mints expired and not-yet-valid tokens', async () => {
    const expired = await idp.mintToken({ lifetimeSeconds: -300 });
    await assert.rejects(verify(expired), /"exp" claim timestamp check failed/);
    const early = await idp.mintToken({ notBeforeSeconds: 300 });
    await assert.rejects(verify(early), /"nbf" claim timestamp check failed/);
  });

  it('answers 503 at its jwks_uri while the outage is on', async () => {
    idp.setJwksAvailable(false);
    try {
      assert.equal((await fetch(idp.jwksUri)).status, 503);
    } finally {
      idp.setJwksAvailable(true);
    }
    assert.equal((await fetch(idp.jwksUri)).status, 200);
  });
});
