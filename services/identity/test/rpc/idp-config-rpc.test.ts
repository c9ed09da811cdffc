import assert from 'node:assert/strict';
import { timestampDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { inTenant } from '@fortress/kit/pg';
import { remoteReason } from '@fortress/kit/errors';
import { TEST_IDP_AUDIENCE } from '@fortress/harness/idp/test-idp';
import { ORGS, startIdpWorld, type ConfigInit, type IdpWorld } from '../support/idp-world.js';

/** A timestamp that must be there, as a Date. */
const dateOf = (t: Timestamp | undefined): Date => {
  assert.ok(t, 'a timestamp');
  return timestampDate(t);
};

/** Expects a ConnectError with this code, reason and (for invalid arguments) field. */
const failsWith = (code: Code, reason: string, field?: string) => (err: unknown) => {
  assert.ok(err instanceof ConnectError, String(err));
  assert.equal(err.code, code, err.message);
  assert.equal(remoteReason(err), reason);
  if (field) assert.equal(err.metadata.get('fortress-field'), field);
  return true;
};

describe('SetIdpConfig and GetIdpConfig (identity on PostgreSQL)', function () {
  this.timeout(120_000);
  let w: IdpWorld;
  before(async () => {
    w = await startIdpWorld();
  });
  after(() => w?.stop());

  it('stores a configuration with the defaults filled in, and gives it back', async () => {
    const set = await w.f.admin.setIdpConfig({
      orgId: ORGS.soho.id,
      config: { issuer: w.idp.issuer, audiences: [TEST_IDP_AUDIENCE], jwksUri: w.idp.jwksUri },
    });
    const c = set.config;
    assert.deepEqual(c?.algorithms, ['RS256', 'ES256', 'EdDSA']);
    assert.equal(c?.userIdClaim, 'sub');
    assert.deepEqual(c?.emailClaims, ['email', 'preferred_username', 'upn']);
    assert.equal(c?.deviceIdClaim, 'deviceid');
    assert.equal(c?.groupsClaim, '');
    assert.ok(c?.updatedAt);
    const got = await w.f.admin.getIdpConfig({ orgId: ORGS.soho.id });
    assert.deepEqual(got.config, c);
  });

  it('replaces the configuration on a second set, with a new updated_at', async () => {
    const first = await w.f.admin.getIdpConfig({ orgId: ORGS.bank.id });
    const next = await w.f.admin.setIdpConfig({
      orgId: ORGS.bank.id,
      config: w.bankConfig({ attributeClaims: ['department', 'location'] }),
    });
    assert.deepEqual(next.config?.attributeClaims, ['department', 'location']);
    assert.deepEqual(
      next.config?.groupRoles.map((g) => [g.group, g.roles]),
      [['g-approvers', ['approver']]],
    );
    assert.ok(dateOf(next.config?.updatedAt) > dateOf(first.config?.updatedAt));
    await w.f.admin.setIdpConfig({ orgId: ORGS.bank.id, config: w.bankConfig() });
  });

  const invalid: Array<{ name: string; config: ConfigInit | undefined; field: string }> = [
    { name: 'no config', config: undefined, field: 'config' },
    {
      name: 'an http issuer off loopback',
      config: {
        issuer: 'http://login.example.com',
        audiences: ['a'],
        jwksUri: 'https://x.example/k',
      },
      field: 'config.issuer',
    },
    {
      name: 'an http jwks_uri off loopback',
      config: {
        issuer: 'https://login.example.com',
        audiences: ['a'],
        jwksUri: 'http://x.example/k',
      },
      field: 'config.jwks_uri',
    },
    {
      name: 'alg none',
      config: {
        issuer: 'https://i.example',
        audiences: ['a'],
        jwksUri: 'https://i.example/k',
        algorithms: ['none'],
      },
      field: 'config.algorithms',
    },
    {
      name: 'HS256',
      config: {
        issuer: 'https://i.example',
        audiences: ['a'],
        jwksUri: 'https://i.example/k',
        algorithms: ['HS256'],
      },
      field: 'config.algorithms',
    },
    {
      name: 'no audience',
      config: { issuer: 'https://i.example', audiences: [], jwksUri: 'https://i.example/k' },
      field: 'config.audiences',
    },
  ];
  for (const c of invalid) {
    it(`refuses ${c.name} with INVALID_ARGUMENT naming ${c.field}`, async () => {
      await assert.rejects(
        w.f.admin.setIdpConfig({ orgId: ORGS.soho.id, ...(c.config ? { config: c.config } : {}) }),
        failsWith(Code.InvalidArgument, 'invalid_argument', c.field),
      );
    });
  }

  it('answers NOT_FOUND for an org without a configuration, and for an unknown org', async () => {
    await assert.rejects(
      w.f.admin.getIdpConfig({ orgId: ORGS.bankNoIdp.id }),
      failsWith(Code.NotFound, 'idp_not_configured'),
    );
    await assert.rejects(
      w.f.admin.getIdpConfig({ orgId: 'org_nosuch' }),
      failsWith(Code.NotFound, 'org_not_found'),
    );
    await assert.rejects(
      w.f.admin.setIdpConfig({ orgId: 'org_nosuch', config: w.bankConfig() }),
      failsWith(Code.NotFound, 'org_not_found'),
    );
  });

  it("keeps each org's configuration and tokens to itself (row-level security)", async () => {
    const bank = await w.f.admin.getIdpConfig({ orgId: ORGS.bank.id });
    const other = await w.f.admin.getIdpConfig({ orgId: ORGS.other.id });
    assert.equal(bank.config?.issuer, w.idp.issuer);
    assert.equal(other.config?.issuer, w.otherIdp.issuer);
    const pool = w.f.pg.runtimePool('identity');
    const seen = await inTenant(pool, ORGS.bank.id, async (db) => ({
      configs: (await db.query<{ org_id: string }>('SELECT org_id FROM idp_configs')).rows,
      tokens: (await db.query<{ org_id: string }>('SELECT org_id FROM exchanged_tokens')).rows,
    }));
    assert.deepEqual(seen.configs, [{ org_id: ORGS.bank.id }]);
    assert.ok(seen.tokens.every((r) => r.org_id === ORGS.bank.id));
    // Without a tenant, the runtime role sees nothing and may write nothing.
    assert.equal((await pool.query('SELECT * FROM idp_configs')).rows.length, 0);
    const updated = await inTenant(pool, ORGS.bank.id, (db) =>
      db.query(`UPDATE idp_configs SET issuer = 'https://evil.example' WHERE org_id = $1`, [
        ORGS.other.id,
      ]),
    );
    assert.equal(updated.rowCount, 0, "another org's row is invisible");
    const unchanged = await w.f.admin.getIdpConfig({ orgId: ORGS.other.id });
    assert.equal(unchanged.config?.issuer, w.otherIdp.issuer);
  });
});
