import assert from 'node:assert/strict';
import { PrincipalKind, Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import type { KeyLookup } from '../../src/adapters/pg/identity-store.js';
import { authenticate, type KeyDirectory } from '../../src/domain/authenticate.js';
import type { IdpVerifier } from '../../src/domain/idp-user.js';
import { validateIdpConfig, type IdpConfig } from '../../src/domain/idp-config.js';
import type { IdpVerdict } from '../../src/domain/idp-token.js';
import { generateExchangedToken, generateOrgKey } from '../../src/domain/org-key.js';

/** An in-memory key directory keyed by hash, counting lookups. */
function memoryDirectory(entries: Array<{ secret: string; hash: Buffer; lookup: KeyLookup }> = []) {
  const byHash = new Map(entries.map((e) => [e.hash.toString('hex'), e.lookup]));
  const directory = {
    lookups: 0,
    lookupKey(hash: Buffer): Promise<KeyLookup | undefined> {
      directory.lookups += 1;
      return Promise.resolve(byHash.get(hash.toString('hex')));
    },
    lookupExchangedToken: () => Promise.resolve(undefined),
  } satisfies KeyDirectory & { lookups: number };
  return directory;
}

/** No org in these cases has an IdP configured: a verifier call would be a bug. */
const noIdp: IdpVerifier = {
  verify: () => Promise.reject(new Error('no IdP is configured in these cases')),
};

/** Authentication over a directory, with the real clock. */
const deps = (directory: KeyDirectory) => ({ directory, idp: noIdp, now: () => new Date() });

/** A stored key of an org of the given tier. */
function storedKey(overrides: Partial<KeyLookup> = {}) {
  const key = generateOrgKey('live');
  const lookup: KeyLookup = {
    keyId: 'key_k1',
    orgId: 'org_o1',
    tier: 'soho',
    orgDisabled: false,
    roles: ['developer', 'reviewer'],
    products: ['pat', 'mcp'],
    patKeyId: 'pat_p1',
    patKeyVersion: 0,
    revoked: false,
    ...overrides,
  };
  return { secret: key.secret, hash: key.hash, lookup };
}

describe('authenticate', () => {
  it('fails MISSING_CREDENTIAL without looking anything up when no key is presented', async () => {
    const directory = memoryDirectory();
    const outcome = await authenticate(deps(directory), { apiKey: '', idpToken: '' });
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure, AuthFailure.MISSING_CREDENTIAL);
    assert.equal(outcome.reason.code, 'missing_api_key');
    assert.equal(outcome.orgId, undefined);
    assert.equal(directory.lookups, 0);
  });

  it('fails MALFORMED_CREDENTIAL without looking anything up for a value that is not an org key', async () => {
    const directory = memoryDirectory();
    const outcome = await authenticate(deps(directory), {
      apiKey: 'sk-ant-api03-xyz',
      idpToken: '',
    });
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure, AuthFailure.MALFORMED_CREDENTIAL);
    assert.equal(outcome.reason.code, 'malformed_api_key');
    assert.ok(!outcome.reason.message.includes('sk-ant'));
    assert.equal(directory.lookups, 0);
  });

  it('fails UNKNOWN_CREDENTIAL, naming no org, for a well-formed key nobody issued', async () => {
    const directory = memoryDirectory([storedKey()]);
    const outcome = await authenticate(deps(directory), {
      apiKey: generateOrgKey('live').secret,
      idpToken: '',
    });
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure, AuthFailure.UNKNOWN_CREDENTIAL);
    assert.equal(outcome.reason.code, 'invalid_api_key');
    assert.equal(outcome.orgId, undefined);
    assert.equal(directory.lookups, 1);
  });

  const failures = [
    {
      name: 'a revoked key',
      key: { revoked: true },
      failure: AuthFailure.REVOKED,
      code: 'api_key_revoked',
    },
    {
      name: 'a revoked key of a disabled org',
      key: { revoked: true, orgDisabled: true },
      failure: AuthFailure.REVOKED,
      code: 'api_key_revoked',
    },
    {
      name: 'a key of a disabled org',
      key: { orgDisabled: true },
      failure: AuthFailure.ORG_DISABLED,
      code: 'org_disabled',
    },
    {
      name: 'a Bank key without an IdP token',
      key: { tier: 'bank' },
      failure: AuthFailure.IDP_TOKEN_REQUIRED,
      code: 'idp_token_required',
    },
    {
      name: 'a Zero Trust key without an IdP token',
      key: { tier: 'zero_trust' },
      failure: AuthFailure.IDP_TOKEN_REQUIRED,
      code: 'idp_token_required',
    },
    {
      name: 'a Bank key with an IdP token (no IdP configured: fail closed)',
      key: { tier: 'bank' },
      idpToken: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      failure: AuthFailure.IDP_TOKEN_INVALID,
      code: 'idp_not_configured',
    },
    {
      name: 'a Zero Trust key with an IdP token (no IdP configured: fail closed)',
      key: { tier: 'zero_trust' },
      idpToken: 'eyJhbGciOiJSUzI1NiJ9.e30.sig',
      failure: AuthFailure.IDP_TOKEN_INVALID,
      code: 'idp_not_configured',
    },
  ];
  for (const c of failures) {
    it(`fails ${AuthFailure[c.failure]} with the org id known for ${c.name}`, async () => {
      const stored = storedKey(c.key);
      const outcome = await authenticate(deps(memoryDirectory([stored])), {
        apiKey: stored.secret,
        idpToken: c.idpToken ?? '',
      });
      assert.ok(!outcome.ok);
      assert.equal(outcome.failure, c.failure);
      assert.equal(outcome.reason.code, c.code);
      assert.equal(outcome.reason.ruleId, 'identity');
      assert.equal(outcome.orgId, 'org_o1');
    });
  }

  it('returns the principal of a SOHO key', async () => {
    const stored = storedKey();
    const before = Date.now();
    const outcome = await authenticate(deps(memoryDirectory([stored])), {
      apiKey: stored.secret,
      idpToken: '',
    });
    assert.ok(outcome.ok);
    const p = outcome.principal;
    assert.equal(p.orgId, 'org_o1');
    assert.equal(p.tier, Tier.SOHO);
    assert.equal(p.kind, PrincipalKind.ORG_KEY);
    assert.equal(p.subjectId, 'key_k1');
    assert.equal(p.apiKeyId, 'key_k1');
    assert.deepEqual(p.roles, ['developer', 'reviewer']);
    assert.deepEqual(p.products, [Product.PAT, Product.MCP]);
    assert.equal(p.patKeyId, 'pat_p1');
    assert.ok(p.authenticatedAt && Number(p.authenticatedAt.seconds) * 1000 >= before - 1000);
  });

  it('gives a SOHO key without a PAT key an empty patKeyId', async () => {
    const stored = storedKey({ patKeyId: null, products: ['mcp'] });
    const outcome = await authenticate(deps(memoryDirectory([stored])), {
      apiKey: stored.secret,
      idpToken: '',
    });
    assert.ok(outcome.ok);
    assert.equal(outcome.principal.patKeyId, '');
    assert.deepEqual(outcome.principal.products, [Product.MCP]);
  });
});

describe('authenticate with an IdP configured (decision table, fake verifier)', () => {
  const idp: IdpConfig = {
    ...validateIdpConfig({
      issuer: 'https://idp.example.com',
      audiences: ['api://fortress'],
      jwksUri: 'https://idp.example.com/keys',
      algorithms: [],
      userIdClaim: '',
      emailClaims: [],
      deviceIdClaim: '',
      attributeClaims: [],
      groupsClaim: '',
      groupRoles: {},
    }),
    updatedAt: new Date(),
  };
  /** A verifier that accepts the token "good" as user u-1 and refuses anything else. */
  const verifier = () => {
    const v = {
      calls: 0,
      verify(_orgId: string, _config: IdpConfig, token: string): Promise<IdpVerdict> {
        v.calls += 1;
        return Promise.resolve(
          token === 'good'
            ? { ok: true, claims: { sub: 'u-1', exp: Math.floor(Date.now() / 1000) + 600 } }
            : { ok: false, refusal: 'idp_token_invalid', message: 'bad token' },
        );
      },
    };
    return v;
  };
  const cases: Array<{
    name: string;
    key: Partial<KeyLookup>;
    idpToken: string;
    kind?: PrincipalKind;
    code?: string;
    verified: number;
  }> = [
    {
      name: 'a Bank key with a good token',
      key: { tier: 'bank', idp },
      idpToken: 'good',
      kind: PrincipalKind.USER,
      verified: 1,
    },
    {
      name: 'a Bank key with a bad token',
      key: { tier: 'bank', idp },
      idpToken: 'bad',
      code: 'idp_token_invalid',
      verified: 1,
    },
    {
      name: 'a Bank key with an IdP but no token',
      key: { tier: 'bank', idp },
      idpToken: '',
      code: 'idp_token_required',
      verified: 0,
    },
    {
      name: 'a SOHO key with an IdP and a good token',
      key: { idp },
      idpToken: 'good',
      kind: PrincipalKind.USER,
      verified: 1,
    },
    {
      name: 'a SOHO key with an IdP and a bad token',
      key: { idp },
      idpToken: 'bad',
      code: 'idp_token_invalid',
      verified: 1,
    },
    {
      name: 'a SOHO key with an IdP and no token',
      key: { idp },
      idpToken: '',
      kind: PrincipalKind.ORG_KEY,
      verified: 0,
    },
    {
      name: 'a SOHO key without an IdP and a token (ignored)',
      key: {},
      idpToken: 'bad',
      kind: PrincipalKind.ORG_KEY,
      verified: 0,
    },
    {
      name: 'a revoked Bank key with a good token',
      key: { tier: 'bank', idp, revoked: true },
      idpToken: 'good',
      code: 'api_key_revoked',
      verified: 0,
    },
  ];
  for (const c of cases) {
    it(`decides ${c.name}`, async () => {
      const stored = storedKey(c.key);
      const v = verifier();
      const outcome = await authenticate(
        { directory: memoryDirectory([stored]), idp: v, now: () => new Date() },
        { apiKey: stored.secret, idpToken: c.idpToken },
      );
      if (c.kind !== undefined) {
        assert.ok(outcome.ok, outcome.ok ? '' : outcome.reason.message);
        assert.equal(outcome.principal.kind, c.kind);
      } else {
        assert.ok(!outcome.ok);
        assert.equal(outcome.reason.code, c.code);
        assert.equal(outcome.orgId, 'org_o1');
      }
      assert.equal(v.calls, c.verified);
    });
  }

  it('passes a Fortress token to the token directory, never to the key lookup', async () => {
    const directory = memoryDirectory();
    const outcome = await authenticate(deps(directory), {
      apiKey: generateExchangedToken().secret,
      idpToken: '',
    });
    assert.ok(!outcome.ok);
    assert.equal(outcome.reason.code, 'invalid_api_key');
    assert.equal(directory.lookups, 0);
  });
});
