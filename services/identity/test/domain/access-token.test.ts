import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import {
  ACCESS_AUDIENCE,
  ACCESS_ISSUER,
  signAccessToken,
  verifyAccessToken,
  type AccessClaims,
} from '../../src/domain/access-token.js';
import { b64json, testSigningKey } from '../support/keys.js';

const KEY = testSigningKey('sk-1');
const CLAIMS: AccessClaims = {
  userId: 'usr_u1',
  orgId: 'org_o1',
  roles: ['owner'],
  sessionId: 'ses_s1',
};
const T0 = new Date('2026-11-23T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const sec = (d: Date) => Math.floor(d.getTime() / 1000);

/** A payload as we issue it, to tamper with. */
const payload = (over: Record<string, unknown> = {}) => ({
  iss: ACCESS_ISSUER,
  aud: ACCESS_AUDIENCE,
  sub: CLAIMS.userId,
  org: CLAIMS.orgId,
  roles: CLAIMS.roles,
  sid: CLAIMS.sessionId,
  jti: 'j1',
  iat: sec(T0),
  exp: sec(at(900)),
  ...over,
});

/** Signs an arbitrary payload and header with a key (EdDSA unless said otherwise). */
const signRaw = (body: Record<string, unknown>, header: Record<string, unknown> = {}, key = KEY) =>
  new SignJWT(body)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: key.keyId, ...header })
    .sign(key.privateKey);

describe('signAccessToken', () => {
  it('signs EdDSA with our kid and the claims the admin plane relies on', async () => {
    const token = await signAccessToken(KEY, CLAIMS, T0, at(900));
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'EdDSA', typ: 'at+jwt', kid: 'sk-1' });
    const { payload: p } = await jwtVerify(token, KEY.publicKey, {
      algorithms: ['EdDSA'],
      currentDate: at(1),
    });
    assert.equal(p.iss, 'fortress-identity');
    assert.equal(p.aud, 'fortress-admin');
    assert.equal(p.sub, 'usr_u1');
    assert.equal(p['org'], 'org_o1');
    assert.deepEqual(p['roles'], ['owner']);
    assert.equal(p['sid'], 'ses_s1');
    assert.match(p.jti ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(p.iat, sec(T0));
    assert.equal(p.exp, sec(T0) + 900);
  });

  it('gives every token its own jti', async () => {
    const a = await signAccessToken(KEY, CLAIMS, T0, at(900));
    const b = await signAccessToken(KEY, CLAIMS, T0, at(900));
    assert.notEqual(a, b);
  });
});

describe('verifyAccessToken', () => {
  it('returns the claims of a token we signed, while it is valid', async () => {
    const token = await signAccessToken(KEY, CLAIMS, T0, at(900));
    assert.deepEqual(await verifyAccessToken(KEY, token, at(899)), { ok: true, claims: CLAIMS });
  });

  it('refuses as expired once exp has passed (beyond 2 s of clock tolerance)', async () => {
    const token = await signAccessToken(KEY, CLAIMS, T0, at(900));
    assert.equal((await verifyAccessToken(KEY, token, at(901))).ok, true);
    assert.deepEqual(await verifyAccessToken(KEY, token, at(903)), {
      ok: false,
      refusal: 'expired',
    });
  });

  const other = testSigningKey('sk-1');
  const publicX = Buffer.from(
    (KEY.publicKey.export({ format: 'jwk' }) as { x: string }).x,
    'base64url',
  );
  const hs256 = (secret: Buffer) => {
    const signing = `${b64json({ alg: 'HS256', typ: 'at+jwt', kid: 'sk-1' })}.${b64json(payload())}`;
    return `${signing}.${createHmac('sha256', secret).update(signing).digest('base64url')}`;
  };
  const refused: Array<{ name: string; token: () => Promise<string> | string; refusal: string }> = [
    { name: 'an empty token', token: () => '', refusal: 'malformed' },
    { name: 'a non-JWT', token: () => 'not-a-token', refusal: 'malformed' },
    { name: 'three bad segments', token: () => 'a.b.c', refusal: 'malformed' },
    {
      name: 'a token signed by another key with our kid',
      token: () => signAccessToken(other, CLAIMS, T0, at(900)),
      refusal: 'invalid',
    },
    {
      name: 'a token naming another kid',
      token: () => signRaw(payload(), { kid: 'sk-2' }),
      refusal: 'invalid',
    },
    {
      name: 'alg "none" with no signature',
      token: () => `${b64json({ alg: 'none', typ: 'at+jwt', kid: 'sk-1' })}.${b64json(payload())}.`,
      refusal: 'invalid',
    },
    {
      name: 'HS256 keyed with our public key (algorithm confusion)',
      token: () => hs256(publicX),
      refusal: 'invalid',
    },
    {
      name: 'HS256 keyed with the public key PEM',
      token: () => hs256(Buffer.from(KEY.publicKey.export({ format: 'pem', type: 'spki' }))),
      refusal: 'invalid',
    },
    {
      name: 'a tampered payload (roles raised)',
      token: async () => {
        const [h, , s] = (
          await signAccessToken(KEY, { ...CLAIMS, roles: ['viewer'] }, T0, at(900))
        ).split('.');
        return `${h}.${b64json(payload({ roles: ['owner'] }))}.${s}`;
      },
      refusal: 'invalid',
    },
    {
      name: 'another issuer',
      token: () => signRaw(payload({ iss: 'fortress-policy' })),
      refusal: 'invalid',
    },
    {
      name: 'another audience',
      token: () => signRaw(payload({ aud: 'vault' })),
      refusal: 'invalid',
    },
    { name: 'another typ', token: () => signRaw(payload(), { typ: 'JWT' }), refusal: 'invalid' },
    {
      name: 'no sid claim',
      token: () => signRaw(payload({ sid: undefined })),
      refusal: 'invalid',
    },
    {
      name: 'an org claim that is not an id',
      token: () => signRaw(payload({ org: "org_a' OR 1=1" })),
      refusal: 'invalid',
    },
    {
      name: 'roles that are not strings',
      token: () => signRaw(payload({ roles: [1] })),
      refusal: 'invalid',
    },
    {
      name: 'a token not yet valid',
      token: () => signRaw(payload({ nbf: sec(at(600)) })),
      refusal: 'invalid',
    },
  ];
  for (const c of refused) {
    it(`refuses ${c.name} (${c.refusal})`, async () => {
      assert.deepEqual(await verifyAccessToken(KEY, await c.token(), at(10)), {
        ok: false,
        refusal: c.refusal,
      });
    });
  }
});
