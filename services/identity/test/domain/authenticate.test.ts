import assert from 'node:assert/strict';
import { PrincipalKind, Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import type { KeyLookup } from '../../src/adapters/pg/identity-store.js';
import { authenticate, type KeyDirectory } from '../../src/domain/authenticate.js';
import { generateOrgKey } from '../../src/domain/org-key.js';

/** An in-memory key directory keyed by hash, counting lookups. */
function memoryDirectory(entries: Array<{ secret: string; hash: Buffer; lookup: KeyLookup }> = []) {
  const byHash = new Map(entries.map((e) => [e.hash.toString('hex'), e.lookup]));
  const directory = {
    lookups: 0,
    lookupKey(hash: Buffer): Promise<KeyLookup | undefined> {
      directory.lookups += 1;
      return Promise.resolve(byHash.get(hash.toString('hex')));
    },
  } satisfies KeyDirectory & { lookups: number };
  return directory;
}

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
    const outcome = await authenticate(directory, { apiKey: '', idpToken: '' });
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure, AuthFailure.MISSING_CREDENTIAL);
    assert.equal(outcome.reason.code, 'missing_api_key');
    assert.equal(outcome.orgId, undefined);
    assert.equal(directory.lookups, 0);
  });

  it('fails MALFORMED_CREDENTIAL without looking anything up for a value that is not an org key', async () => {
    const directory = memoryDirectory();
    const outcome = await authenticate(directory, { apiKey: 'sk-ant-api03-xyz', idpToken: '' });
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure, AuthFailure.MALFORMED_CREDENTIAL);
    assert.equal(outcome.reason.code, 'malformed_api_key');
    assert.ok(!outcome.reason.message.includes('sk-ant'));
    assert.equal(directory.lookups, 0);
  });

  it('fails UNKNOWN_CREDENTIAL, naming no org, for a well-formed key nobody issued', async () => {
    const directory = memoryDirectory([storedKey()]);
    const outcome = await authenticate(directory, {
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
      const outcome = await authenticate(memoryDirectory([stored]), {
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
    const outcome = await authenticate(memoryDirectory([stored]), {
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
    const outcome = await authenticate(memoryDirectory([stored]), {
      apiKey: stored.secret,
      idpToken: '',
    });
    assert.ok(outcome.ok);
    assert.equal(outcome.principal.patKeyId, '');
    assert.deepEqual(outcome.principal.products, [Product.MCP]);
  });
});
