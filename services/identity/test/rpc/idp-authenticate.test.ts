import assert from 'node:assert/strict';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
} from 'node:crypto';
import { Code } from '@connectrpc/connect';
import { PrincipalKind, Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { ConnectError } from '@connectrpc/connect';
import { remoteReason } from '@fortress/kit/errors';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { TEST_IDP_AUDIENCE } from '@fortress/harness/idp/test-idp';
import { b64json } from '../support/keys.js';
import { ORGS, startIdpWorld, type IdpWorld } from '../support/idp-world.js';
import { refused } from '../support/session-world.js';

const ADA = {
  sub: 'pairwise-ada',
  oid: '7d0c1c3e-0000-4000-8000-00000000ada1',
  email: 'Ada@Bank.example',
  deviceid: 'dev-ada-1',
  department: 'engineering',
  groups: ['g-approvers', 'g-other'],
};

/** Expects the UNAVAILABLE error that makes the edge fail closed, naming no secret. */
const unavailable = (w: IdpWorld) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, Code.Unavailable, err.message);
  assert.equal(remoteReason(err), 'idp_unavailable');
  for (const s of w.secrets) assert.ok(!err.message.includes(s));
  return true;
};

describe('Authenticate with an IdP token (identity on PostgreSQL, oidc-provider as the IdP)', function () {
  this.timeout(120_000);
  let w: IdpWorld;
  before(async () => {
    w = await startIdpWorld();
  });
  after(() => w?.stop());
  beforeEach(() => w.syncClock());

  it('makes a Bank org key plus a valid token the USER, claims mapped Entra-style', async () => {
    const res = await w.authenticate(w.keys.bank.secret, await w.mint(ADA));
    assert.equal(res.authenticated, true, res.reason?.message);
    const p = res.principal;
    assert.equal(p?.kind, PrincipalKind.USER);
    assert.equal(p?.orgId, ORGS.bank.id);
    assert.equal(p?.tier, Tier.BANK);
    assert.equal(p?.subjectId, ADA.oid);
    assert.equal(p?.userId, ADA.oid);
    assert.equal(p?.email, 'ada@bank.example');
    assert.equal(p?.deviceId, 'dev-ada-1');
    assert.deepEqual(p?.attributes, { department: 'engineering' });
    assert.deepEqual(p?.roles, ['developer', 'approver']);
    assert.equal(p?.apiKeyId, w.keys.bank.id);
    assert.equal(p?.patKeyId, 'pat_p1');
    assert.equal(p?.patKeyVersion, 2);
    assert.deepEqual(p?.products, [Product.PAT]);
  });

  it('takes the user from "sub" and the email from preferred_username with the defaults (Zero Trust, ES256)', async () => {
    const token = await w.mint({ sub: 'zoe', preferred_username: 'zoe@zt.example', alg: 'ES256' });
    const res = await w.authenticate(w.keys.zeroTrust.secret, token);
    assert.equal(res.authenticated, true, res.reason?.message);
    assert.equal(res.principal?.userId, 'zoe');
    assert.equal(res.principal?.email, 'zoe@zt.example');
    assert.deepEqual(res.principal?.roles, ['developer']);
    assert.deepEqual(res.principal?.attributes, {});
  });

  it('still refuses a Bank org without an IdP configured (idp_not_configured), naming the org', async () => {
    const res = await w.authenticate(w.keys.bankNoIdp.secret, await w.mint(ADA));
    refused(res, AuthFailure.IDP_TOKEN_INVALID, 'idp_not_configured');
    assert.equal(res.principal?.orgId, ORGS.bankNoIdp.id);
    refused(
      await w.authenticate(w.keys.bank.secret),
      AuthFailure.IDP_TOKEN_REQUIRED,
      'idp_token_required',
    );
  });

  describe('refuses tokens that fail a check, as results naming the org', () => {
    const cases: Array<{ name: string; token: (w: IdpWorld) => Promise<string>; code: string }> = [
      {
        name: 'a token for another audience',
        token: (w) => w.mint({ ...ADA, audience: 'api://someone-else' }),
        code: 'idp_wrong_audience',
      },
      {
        name: 'a token from another IdP (its keys are not in the JWKS)',
        token: (w) => w.mint(ADA, w.otherIdp),
        code: 'idp_token_invalid',
      },
      {
        name: 'an expired token (beyond the 30 s tolerance)',
        token: (w) => w.mint({ ...ADA, lifetimeSeconds: -31 }),
        code: 'idp_token_expired',
      },
      {
        name: 'a token not valid yet (nbf beyond the tolerance)',
        token: (w) => w.mint({ ...ADA, notBeforeSeconds: 120 }),
        code: 'idp_token_not_yet_valid',
      },
      {
        name: 'a token without the configured user claim (oid)',
        token: (w) => w.mint({ sub: 'no-oid', email: 'x@bank.example' }),
        code: 'idp_token_invalid',
      },
      {
        name: 'alg "none" with a genuine payload',
        token: async (w) => {
          const genuine = await w.mint(ADA);
          const kid = decodeProtectedHeader(genuine).kid;
          return `${b64json({ alg: 'none', kid })}.${genuine.split('.')[1]}.`;
        },
        code: 'idp_token_invalid',
      },
      {
        name: "HS256 keyed with the IdP's own public key",
        token: async (w) => {
          const genuine = await w.mint(ADA);
          const { kid = '' } = decodeProtectedHeader(genuine);
          const jwks = (await (await fetch(w.idp.jwksUri)).json()) as { keys: JsonWebKey[] };
          const jwk = jwks.keys.find((k) => (k as { kid?: string }).kid === kid);
          assert.ok(jwk);
          const pem = createPublicKey({ key: jwk, format: 'jwk' }).export({
            type: 'spki',
            format: 'pem',
          });
          return new SignJWT(decodeJwt(genuine))
            .setProtectedHeader({ alg: 'HS256', kid })
            .sign(Buffer.from(pem));
        },
        code: 'idp_token_invalid',
      },
      {
        name: "a token signed by a key outside the JWKS, claiming the IdP's kid",
        token: async (w) => {
          const genuine = await w.mint(ADA);
          const { kid } = decodeProtectedHeader(genuine);
          const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
          return new SignJWT(decodeJwt(genuine))
            .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
            .sign(createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' })));
        },
        code: 'idp_token_invalid',
      },
      {
        name: 'a value that is not a JWT',
        token: () => Promise.resolve('not.a.jwt'),
        code: 'idp_token_invalid',
      },
    ];
    for (const c of cases) {
      it(`answers IDP_TOKEN_INVALID ${c.code} for ${c.name}`, async () => {
        const token = await c.token(w);
        w.secrets.add(token);
        const res = await w.authenticate(w.keys.bank.secret, token);
        refused(res, AuthFailure.IDP_TOKEN_INVALID, c.code);
        assert.equal(res.principal?.orgId, ORGS.bank.id);
        assert.equal(res.principal?.userId, '', 'no user identity on a refusal');
      });
    }
  });

  it('refuses a token whose issuer is not the configured one (idp_wrong_issuer)', async () => {
    // Same keys and audience, but the org expects the issuer under another path.
    await w.f.admin.setIdpConfig({
      orgId: ORGS.bankNoIdp.id,
      config: w.bankConfig({ issuer: `${w.idp.issuer}/tenant-2` }),
    });
    try {
      const res = await w.authenticate(w.keys.bankNoIdp.secret, await w.mint(ADA));
      refused(res, AuthFailure.IDP_TOKEN_INVALID, 'idp_wrong_issuer');
    } finally {
      await w.f.pg.admin.query('DELETE FROM identity.idp_configs WHERE org_id = $1', [
        ORGS.bankNoIdp.id,
      ]);
    }
  });

  it('accepts an expired token within the clock tolerance, refuses it once the clock moves on', async () => {
    const token = await w.mint({ ...ADA, lifetimeSeconds: -10 });
    assert.equal((await w.authenticate(w.keys.bank.secret, token)).authenticated, true);
    w.f.advance(25_000);
    try {
      refused(
        await w.authenticate(w.keys.bank.secret, token),
        AuthFailure.IDP_TOKEN_INVALID,
        'idp_token_expired',
      );
    } finally {
      w.f.advance(-25_000);
    }
  });

  it("keeps orgs apart: another org's IdP token is refused with this org's key, and vice versa", async () => {
    const mine = await w.mint(ADA);
    const theirs = await w.mint({ sub: 'olly' }, w.otherIdp);
    refused(
      await w.authenticate(w.keys.other.secret, mine),
      AuthFailure.IDP_TOKEN_INVALID,
      'idp_token_invalid',
    );
    refused(
      await w.authenticate(w.keys.bank.secret, theirs),
      AuthFailure.IDP_TOKEN_INVALID,
      'idp_token_invalid',
    );
    const ok = await w.authenticate(w.keys.other.secret, theirs);
    assert.equal(ok.principal?.orgId, ORGS.other.id);
    assert.equal(ok.principal?.userId, 'olly');
  });

  describe('SOHO orgs', () => {
    it('stay key-only without a token, and ignore a token when they have no IdP', async () => {
      for (const [key, token] of [
        [w.keys.sohoIdp.secret, ''],
        [w.keys.soho.secret, ''],
        [w.keys.soho.secret, 'eyJhbGciOiJSUzI1NiJ9.e30.sig'],
      ] as const) {
        const res = await w.authenticate(key, token);
        assert.equal(res.authenticated, true);
        assert.equal(res.principal?.kind, PrincipalKind.ORG_KEY);
      }
    });

    it('verify a token when they have an IdP: a good one makes the USER, a bad one is refused', async () => {
      const good = await w.authenticate(w.keys.sohoIdp.secret, await w.mint({ sub: 'sam' }));
      assert.equal(good.principal?.kind, PrincipalKind.USER);
      assert.equal(good.principal?.userId, 'sam');
      assert.equal(good.principal?.tier, Tier.SOHO);
      refused(
        await w.authenticate(
          w.keys.sohoIdp.secret,
          await w.mint({ sub: 'sam', audience: 'api://elsewhere' }),
        ),
        AuthFailure.IDP_TOKEN_INVALID,
        'idp_wrong_audience',
      );
    });
  });

  describe('when the IdP cannot be reached, fails with UNAVAILABLE (the edge answers 503)', () => {
    it('for a JWKS URI where nothing listens', async () => {
      await w.f.admin.setIdpConfig({
        orgId: ORGS.bankNoIdp.id,
        config: w.bankConfig({ jwksUri: `${await w.deadUrl()}/jwks` }),
      });
      await assert.rejects(
        w.authenticate(w.keys.bankNoIdp.secret, await w.mint(ADA)),
        unavailable(w),
      );
    });

    it('for a JWKS endpoint that answers 503, and recovers when it serves again', async () => {
      // A fresh configuration: its key set has never been fetched.
      await w.f.admin.setIdpConfig({ orgId: ORGS.bankNoIdp.id, config: w.bankConfig() });
      const token = await w.mint(ADA);
      w.idp.setJwksAvailable(false);
      try {
        await assert.rejects(w.authenticate(w.keys.bankNoIdp.secret, token), unavailable(w));
      } finally {
        w.idp.setJwksAvailable(true);
      }
      const res = await w.authenticate(w.keys.bankNoIdp.secret, token);
      assert.equal(res.authenticated, true, res.reason?.message);
    });

    it('for a JWKS endpoint that never answers (after the configured timeout)', async () => {
      const hung = await w.hungServer();
      try {
        await w.f.admin.setIdpConfig({
          orgId: ORGS.bankNoIdp.id,
          config: w.bankConfig({ jwksUri: `${hung.url}/jwks` }),
        });
        const started = Date.now();
        await assert.rejects(
          w.authenticate(w.keys.bankNoIdp.secret, await w.mint(ADA)),
          unavailable(w),
        );
        assert.ok(Date.now() - started < 5000, 'the timeout bounded the wait');
      } finally {
        await hung.stop();
        await w.f.pg.admin.query('DELETE FROM identity.idp_configs WHERE org_id = $1', [
          ORGS.bankNoIdp.id,
        ]);
      }
    });

    it('logged why, without a token', () => {
      const lines = w.f.logLines.filter((l) => l.includes('identity provider keys unavailable'));
      assert.ok(lines.length >= 3, 'each outage was logged');
      for (const line of w.f.logLines)
        for (const s of w.secrets)
          assert.ok(!line.includes(s), `a secret in a log line: ${line.slice(0, 100)}`);
    });
  });

  it('answers with the configured audience list, where one of several matches', async () => {
    await w.f.admin.setIdpConfig({
      orgId: ORGS.bank.id,
      config: w.bankConfig({ audiences: ['api://first', TEST_IDP_AUDIENCE] }),
    });
    const res = await w.authenticate(w.keys.bank.secret, await w.mint(ADA));
    assert.equal(res.authenticated, true, res.reason?.message);
    await w.f.admin.setIdpConfig({ orgId: ORGS.bank.id, config: w.bankConfig() });
  });
});

describe('Members from sign-in: IdP users hold seats, deactivated ones are refused', function () {
  this.timeout(120_000);
  let w: IdpWorld;
  before(async () => {
    w = await startIdpWorld();
  });
  after(() => w?.stop());
  beforeEach(() => w.syncClock());

  const BY = { subjectId: 'usr_owner1', email: 'owner@bank.example', approvedBy: '' };
  const memberOf = async (externalId: string) =>
    (await w.f.admin.listMembers({ orgId: ORGS.bank.id })).members.filter(
      (m) => m.externalId === externalId,
    );

  it('makes a first-time IdP user a member holding the key’s products, once', async () => {
    const token = await w.mint({ ...ADA, oid: 'oid-first-1' });
    assert.deepEqual(await memberOf('oid-first-1'), []);
    // Two first requests at once still make one member.
    const both = await Promise.all([
      w.authenticate(w.keys.bank.secret, token),
      w.authenticate(w.keys.bank.secret, token),
    ]);
    for (const res of both) assert.equal(res.authenticated, true, res.reason?.message);
    const [m, ...more] = await memberOf('oid-first-1');
    assert.deepEqual(more, []);
    assert.equal(m?.email, 'ada@bank.example');
    assert.deepEqual(m?.products, [Product.PAT]);
    assert.equal(m?.active, true);
    // Again: nothing changes, nothing is published.
    const waiting = async () => {
      let n = 0;
      await w.f.app.members.drainOutbox(ORGS.bank.id, 100, () => {
        n++;
        return Promise.resolve();
      });
      return n;
    };
    assert.equal(await waiting(), 1);
    assert.equal((await w.authenticate(w.keys.bank.secret, token)).authenticated, true);
    assert.equal(await waiting(), 0);
  });

  it('refuses a deactivated member at once, with an org key or an exchanged token, until reactivated', async () => {
    const token = await w.mint({ ...ADA, oid: 'oid-leaver-1' });
    const exchanged = await w.exchange(w.keys.bank.secret, token);
    assert.ok(exchanged.token, exchanged.reason?.message);
    const [m] = await memberOf('oid-leaver-1');
    assert.ok(m);
    await w.f.admin.updateMember({
      orgId: ORGS.bank.id,
      member: { ...m, active: false },
      changedBy: BY,
    });
    refused(
      await w.authenticate(w.keys.bank.secret, token),
      AuthFailure.REVOKED,
      'member_deactivated',
    );
    refused(await w.authenticate(exchanged.token), AuthFailure.REVOKED, 'member_deactivated');
    const again = await w.exchange(w.keys.bank.secret, token);
    assert.equal(again.token, '');
    assert.equal(again.reason?.code, 'member_deactivated');
    // Deactivation holds: sign-in does not give the member their seat back.
    assert.equal((await memberOf('oid-leaver-1'))[0]?.active, false);
    await w.f.admin.updateMember({
      orgId: ORGS.bank.id,
      member: { ...m, active: true },
      changedBy: BY,
    });
    assert.equal((await w.authenticate(w.keys.bank.secret, token)).authenticated, true);
  });
});
