import { createMemberStore } from '../../../src/adapters/pg/member-store.js';
import { memberChangeEvent } from '../../../src/domain/member.js';
import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import {
  createIdentityStore,
  type IdentityStore,
} from '../../../src/adapters/pg/identity-store.js';
import { createIdpStore } from '../../../src/adapters/pg/idp-store.js';
import { createSessionStore } from '../../../src/adapters/pg/session-store.js';
import { createUserStore } from '../../../src/adapters/pg/user-store.js';
import { validateIdpConfig } from '../../../src/domain/idp-config.js';
import {
  generateExchangedToken,
  generateOrgKey,
  type GeneratedKey,
} from '../../../src/domain/org-key.js';
import { issueRefreshToken } from '../../../src/domain/refresh-token.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';

const IDP_A = validateIdpConfig({
  issuer: 'https://idp.alpha.example',
  audiences: ['api://alpha'],
  jwksUri: 'https://idp.alpha.example/keys',
  algorithms: [],
  userIdClaim: 'oid',
  emailClaims: [],
  deviceIdClaim: '',
  attributeClaims: ['department'],
  groupsClaim: 'groups',
  groupRoles: { 'g-1': ['approver'] },
});
const exchanged = generateExchangedToken();

describe('identity store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: IdentityStore;
  const keys: Record<string, GeneratedKey> = {};

  const insertKey = (id: string, orgId: string, key: GeneratedKey) =>
    store.insertKey({
      id,
      orgId,
      hash: key.hash,
      displayPrefix: key.displayPrefix,
      label: `${id} label`,
      environment: 'live',
      roles: ['developer'],
      products: ['pat'],
      patKeyId: `pat_${id.slice(4)}`,
    });

  before(async () => {
    fx = await startPgFixture(['identity']);
    pool = fx.runtimePool('identity');
    store = createIdentityStore(pool);
    await store.createOrg({ id: ORG_A, name: 'Alpha', tier: 'soho' });
    await store.createOrg({ id: ORG_B, name: 'Beta', tier: 'bank' });
    keys['key_a1'] = generateOrgKey('live');
    keys['key_b1'] = generateOrgKey('live');
    await insertKey('key_a1', ORG_A, keys['key_a1']);
    await insertKey('key_b1', ORG_B, keys['key_b1']);
    // a row in every tenant table of ORG_A, for the schema checks
    await createUserStore(pool).createUser({
      id: 'usr_a1',
      orgId: ORG_A,
      email: 'a1@alpha.example',
      passwordHash: 'scrypt$N=16384,r=8,p=1$c2FsdA==$aGFzaA==',
      roles: ['owner'],
    });
    await createSessionStore(pool).open({
      sessionId: 'ses_a1',
      orgId: ORG_A,
      userId: 'usr_a1',
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3600_000),
      tokenHash: issueRefreshToken(ORG_A).hash,
    });
    const idp = createIdpStore(pool);
    await idp.setIdpConfig(ORG_A, IDP_A);
    await idp.insertExchangedToken({
      hash: exchanged.hash,
      orgId: ORG_A,
      apiKeyId: 'key_a1',
      user: {
        userId: 'u-1',
        email: 'u1@alpha.example',
        deviceId: 'dev-1',
        attributes: { department: 'ops' },
        groupRoles: ['approver'],
      },
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 600_000),
    });
    // A member, whose change event waits in the outbox (nothing drains it here).
    await createMemberStore(pool).create(
      ORG_A,
      'mbr_a1',
      {
        externalId: 'u-1',
        email: 'u1@alpha.example',
        displayName: 'U One',
        products: ['mcp'],
        active: true,
      },
      new Date(),
      (after) =>
        memberChangeEvent(
          ORG_A,
          { subjectId: 'usr_a1', email: '', approvedBy: '' },
          undefined,
          after,
          new Date(),
        ),
    );
  });
  after(() => fx?.stop());

  describe('schema', () =>
    itHardensTheSchema(
      'identity',
      [
        'api_keys',
        'exchanged_tokens',
        'idp_configs',
        'member_outbox',
        'members',
        'orgs',
        'refresh_tokens',
        'sessions',
        'users',
      ],
      () => fx,
      ORG_A,
    ));

  describe('IdP configuration and Fortress tokens', () => {
    it("returns the org's IdP configuration with its key, and none for an org without", async () => {
      const a = await store.lookupKey(keys['key_a1']?.hash ?? Buffer.alloc(32));
      assert.equal(a?.idp?.issuer, IDP_A.issuer);
      assert.deepEqual({ ...a?.idp?.groupRoles }, { 'g-1': ['approver'] });
      assert.deepEqual(a?.idp?.emailClaims, ['email', 'preferred_username', 'upn']);
      assert.ok(a?.idp?.updatedAt instanceof Date && !Number.isNaN(a.idp.updatedAt.getTime()));
      const b = await store.lookupKey(keys['key_b1']?.hash ?? Buffer.alloc(32));
      assert.ok(b);
      assert.equal(b.idp, undefined);
    });

    it('looks a Fortress token up across tenants by hash, with its key and user', async () => {
      const t = await createIdpStore(pool).lookupExchangedToken(exchanged.hash);
      assert.equal(t?.orgId, ORG_A);
      assert.equal(t?.keyId, 'key_a1');
      assert.equal(t?.revoked, false);
      assert.deepEqual(t?.user, {
        userId: 'u-1',
        email: 'u1@alpha.example',
        deviceId: 'dev-1',
        attributes: { department: 'ops' },
        groupRoles: ['approver'],
      });
      assert.equal(await createIdpStore(pool).lookupExchangedToken(Buffer.alloc(32)), undefined);
    });
  });

  describe('tenant isolation', () => {
    it("lists only the org's own keys", async () => {
      assert.deepEqual(
        (await store.listKeys(ORG_A, 50, '')).map((k) => k.id),
        ['key_a1'],
      );
      assert.deepEqual(
        (await store.listKeys(ORG_B, 50, '')).map((k) => k.id),
        ['key_b1'],
      );
    });

    it("finds no org but the tenant's own", async () => {
      assert.equal((await store.getOrg(ORG_A))?.name, 'Alpha');
      const crossed = await inTenant(pool, ORG_A, (db) =>
        db.query('SELECT id FROM orgs WHERE id = $1', [ORG_B]),
      );
      assert.equal(crossed.rowCount, 0);
    });

    it("does not let the runtime role SELECT another org's api_keys, even by naming it", async () => {
      const { rows } = await inTenant(pool, ORG_A, (db) =>
        db.query('SELECT id FROM api_keys WHERE org_id = $1', [ORG_B]),
      );
      assert.deepEqual(rows, []);
      const all = await inTenant(pool, ORG_A, (db) =>
        db.query<{ id: string }>('SELECT id FROM api_keys'),
      );
      assert.deepEqual(
        all.rows.map((r) => r.id),
        ['key_a1'],
      );
    });

    it("does not revoke or update another org's key", async () => {
      assert.equal(await store.revokeKey(ORG_A, 'key_b1'), undefined);
      const updated = await inTenant(pool, ORG_A, (db) =>
        db.query("UPDATE api_keys SET label = 'pwned' WHERE id = 'key_b1'"),
      );
      assert.equal(updated.rowCount, 0);
      const { rows } = await fx.admin.query(
        "SELECT label, revoked_at FROM identity.api_keys WHERE id = 'key_b1'",
      );
      assert.deepEqual(rows, [{ label: 'key_b1 label', revoked_at: null }]);
    });

    const refusedInserts = [
      {
        name: 'an org row for another org',
        sql: "INSERT INTO orgs (id, name, tier) VALUES ('org_ccc333', 'Gamma', 'soho')",
      },
      {
        name: 'an api key for another org',
        sql: `INSERT INTO api_keys (id, org_id, key_hash, display_prefix, label, environment)
              VALUES ('key_x', '${ORG_B}', decode(repeat('ab', 32), 'hex'), 'fk_live_abcd', 'x', 'live')`,
      },
    ];
    for (const c of refusedInserts) {
      it(`refuses to INSERT ${c.name} than app.org_id (WITH CHECK)`, async () => {
        await assert.rejects(
          inTenant(pool, ORG_A, (db) => db.query(c.sql)),
          /row-level security/,
        );
      });
    }

    it('refuses to move a key to another org by UPDATE (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(`UPDATE api_keys SET org_id = '${ORG_B}' WHERE id = 'key_a1'`),
        ),
        /row-level security/,
      );
    });
  });

  describe('authenticate_key', () => {
    it('finds a key across tenants by hash, with what authentication needs', async () => {
      assert.deepEqual(await store.lookupKey(keys['key_b1']?.hash ?? Buffer.alloc(0)), {
        keyId: 'key_b1',
        orgId: ORG_B,
        tier: 'bank',
        orgDisabled: false,
        roles: ['developer'],
        products: ['pat'],
        patKeyId: 'pat_b1',
        patKeyVersion: 0,
        revoked: false,
      });
    });

    it('finds nothing for an unknown hash', async () => {
      assert.equal(await store.lookupKey(generateOrgKey('live').hash), undefined);
    });

    it('reports revoked=true after revokeKey, and revoking again keeps the first time', async () => {
      const key = generateOrgKey('live');
      await insertKey('key_a2', ORG_A, key);
      const first = await store.revokeKey(ORG_A, 'key_a2');
      assert.ok(first?.revoked_at);
      const again = await store.revokeKey(ORG_A, 'key_a2');
      assert.deepEqual(again?.revoked_at, first.revoked_at);
      assert.equal((await store.lookupKey(key.hash))?.revoked, true);
    });

    it('runs as the schema owner (SECURITY DEFINER) and answers nothing for a hash no key has', async () => {
      const { rows } = await pool.query('SELECT * FROM authenticate_key($1)', [Buffer.alloc(32)]);
      assert.deepEqual(rows, []);
      const { rows: definer } = await fx.admin.query(
        "SELECT prosecdef, pg_get_userbyid(proowner) AS owner FROM pg_proc WHERE proname = 'authenticate_key'",
      );
      assert.deepEqual(definer, [{ prosecdef: true, owner: 'fortress_identity_owner' }]);
    });
  });

  it('answers undefined when creating an org whose id is taken', async () => {
    assert.equal(await store.createOrg({ id: ORG_A, name: 'Again', tier: 'soho' }), undefined);
  });
});
