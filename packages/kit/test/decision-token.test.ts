import assert from 'node:assert/strict';
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  DECISION_AUDIENCE,
  DECISION_ISSUER,
  signDecisionToken,
  verifyDecisionToken,
  type DecisionBinding,
} from '../src/decision-token.js';

const binding: DecisionBinding = {
  orgId: 'org_a1',
  subjectId: 'key_k1',
  credentialRef: 'cred_c1',
  requestId: 'req_r1',
  action: 'pat:messages.create',
};
const expected = {
  orgId: binding.orgId,
  credentialRef: binding.credentialRef,
  requestId: binding.requestId,
};

const ed25519 = () => generateKeyPairSync('ed25519');
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token with our claims but any issuer, audience, expiry or algorithm we choose. */
function customToken(
  key: KeyObject,
  overrides: {
    iss?: string;
    aud?: string;
    exp?: number;
    alg?: string;
    claims?: Record<string, unknown>;
  } = {},
): Promise<string> {
  return new SignJWT({
    org: binding.orgId,
    cred: binding.credentialRef,
    rid: binding.requestId,
    act: binding.action,
    ...overrides.claims,
  })
    .setProtectedHeader({ alg: overrides.alg ?? 'EdDSA', kid: 'k1' })
    .setIssuer(overrides.iss ?? DECISION_ISSUER)
    .setAudience(overrides.aud ?? DECISION_AUDIENCE)
    .setSubject(binding.subjectId)
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? nowSeconds() + 60)
    .sign(key);
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('decision tokens', () => {
  const { privateKey, publicKey } = ed25519();

  it('round-trips the binding when signed and verified with the pair', async () => {
    const token = await signDecisionToken(privateKey, 'k1', binding, 30);
    const result = await verifyDecisionToken(publicKey, token, expected);
    assert.deepEqual(result, { ok: true, binding });
  });

  it('refuses an empty token as missing', async () => {
    assert.deepEqual(await verifyDecisionToken(publicKey, '', expected), {
      ok: false,
      refusal: 'missing',
    });
  });

  it('refuses a token past its expiry (beyond the clock tolerance) as expired', async () => {
    const token = await customToken(privateKey, { exp: nowSeconds() - 30 });
    assert.deepEqual(await verifyDecisionToken(publicKey, token, expected), {
      ok: false,
      refusal: 'expired',
    });
  });

  const invalid = [
    { name: 'another audience', make: () => customToken(privateKey, { aud: 'edge' }) },
    { name: 'another issuer', make: () => customToken(privateKey, { iss: 'fortress-identity' }) },
    {
      name: 'a signature by another key',
      make: () => signDecisionToken(ed25519().privateKey, 'k1', binding, 30),
    },
    {
      name: 'a missing request-id claim',
      make: () => customToken(privateKey, { claims: { rid: undefined } }),
    },
    {
      name: 'an HS256 signature keyed with the public key (algorithm confusion)',
      make: () =>
        customToken(createSecretKey(publicKey.export({ format: 'der', type: 'spki' })), {
          alg: 'HS256',
        }),
    },
    {
      name: 'alg "none" with no signature',
      make: () =>
        Promise.resolve(
          `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({
            iss: DECISION_ISSUER,
            aud: DECISION_AUDIENCE,
            sub: binding.subjectId,
            org: binding.orgId,
            cred: binding.credentialRef,
            rid: binding.requestId,
            exp: nowSeconds() + 60,
          })}.`,
        ),
    },
    {
      name: 'a payload altered after signing',
      make: async () => tamper(await signDecisionToken(privateKey, 'k1', binding, 30)),
    },
    { name: 'garbage', make: () => Promise.resolve('not.a.jwt') },
  ];
  for (const c of invalid) {
    it(`refuses ${c.name} as invalid`, async () => {
      const result = await verifyDecisionToken(publicKey, await c.make(), expected);
      assert.deepEqual(result, { ok: false, refusal: 'invalid' });
    });
  }

  const mismatches = [
    { name: 'org', expect: { ...expected, orgId: 'org_other' } },
    { name: 'credential', expect: { ...expected, credentialRef: 'cred_other' } },
    { name: 'request', expect: { ...expected, requestId: 'req_other' } },
  ];
  for (const c of mismatches) {
    it(`refuses a valid token for another ${c.name} as wrong_binding`, async () => {
      const token = await signDecisionToken(privateKey, 'k1', binding, 30);
      assert.deepEqual(await verifyDecisionToken(publicKey, token, c.expect), {
        ok: false,
        refusal: 'wrong_binding',
      });
    });
  }
});

/** Widens the action claim (not part of the binding check) while keeping the original signature. */
function tamper(token: string): string {
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
  return `${header}.${b64url({ ...claims, act: 'admin:everything' })}.${signature}`;
}
