import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createPolicyStore, type PolicyStore } from '../../../src/adapters/pg/policy-store.js';
import type { RoleModel } from '../../../src/domain/model.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';
const accept = () => undefined;
const role = (name: string, resourceId: string): RoleModel => ({
  name,
  description: `${name} role`,
  grants: [{ resourceType: 'model', resourceId, effect: 'allow' }],
});

describe('policy store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: PolicyStore;

  before(async () => {
    fx = await startPgFixture(['policy']);
    pool = fx.runtimePool('policy');
    store = createPolicyStore(pool);
    await store.putRole(ORG_A, role('developer', 'claude-sonnet-4-5'), accept);
    await store.putRole(ORG_B, role('admin', '*'), accept);
  });
  after(() => fx?.stop());

  describe('schema', () => itHardensTheSchema('policy', ['roles', 'versions'], () => fx, ORG_A));

  describe('models and versions', () => {
    it("loads only the org's own roles", async () => {
      const a = await store.load(ORG_A);
      assert.deepEqual(a.roles, [role('developer', 'claude-sonnet-4-5')]);
      const b = await store.load(ORG_B);
      assert.deepEqual(
        b.roles.map((r) => r.name),
        ['admin'],
      );
    });

    it('starts an org never edited at version 0 with no roles', async () => {
      assert.equal(await store.version('org_new'), 0);
      assert.deepEqual(await store.load('org_new'), { orgId: 'org_new', version: 0, roles: [] });
    });

    it('bumps the version on every edit, per org, and reports the role before the edit', async () => {
      const before = await store.version(ORG_A);
      const edit = await store.putRole(ORG_A, role('developer', 'claude-opus-4-1'), accept);
      assert.equal(edit.version, before + 1);
      assert.deepEqual(edit.before, role('developer', 'claude-sonnet-4-5'));
      assert.equal(await store.version(ORG_A), before + 1);
      assert.equal(await store.version(ORG_B), 1);
    });

    it('hands the check the whole model after the edit and saves nothing when it refuses', async () => {
      const before = await store.load(ORG_A);
      let seen: string[] = [];
      await assert.rejects(
        store.putRole(ORG_A, role('intern', 'claude-haiku-4-5'), (roles) => {
          seen = roles.map((r) => r.name).sort();
          throw new Error('refused by validation');
        }),
        /refused by validation/,
      );
      assert.deepEqual(seen, ['developer', 'intern']);
      assert.deepEqual(await store.load(ORG_A), before);
    });

    it('serialises concurrent edits of one org: every edit gets its own version', async () => {
      const start = await store.version(ORG_B);
      const edits = await Promise.all(
        ['r1', 'r2', 'r3', 'r4'].map((name) => store.putRole(ORG_B, role(name, '*'), accept)),
      );
      assert.deepEqual(edits.map((e) => e.version).sort(), [
        start + 1,
        start + 2,
        start + 3,
        start + 4,
      ]);
      assert.equal(await store.version(ORG_B), start + 4);
    });
  });

  describe('tenant isolation', () => {
    it("shows a tenant none of another org's roles, even when it names the org", async () => {
      const { rows } = await inTenant(pool, ORG_A, (db) =>
        db.query('SELECT name FROM roles WHERE org_id = $1', [ORG_B]),
      );
      assert.deepEqual(rows, []);
    });

    const refused = [
      {
        name: 'a role',
        sql: 'INSERT INTO roles (org_id, name, grants) VALUES ($1, \'backdoor\', \'[{"resourceType":"model","resourceId":"*","effect":"allow"}]\')',
      },
      { name: 'a version', sql: 'INSERT INTO versions (org_id, version) VALUES ($1, 999)' },
    ];
    for (const c of refused) {
      it(`refuses to INSERT ${c.name} for another org than app.org_id (WITH CHECK)`, async () => {
        await assert.rejects(
          inTenant(pool, ORG_A, (db) => db.query(c.sql, [ORG_B])),
          /row-level security/,
        );
      });
    }

    it("cannot delete another org's roles", async () => {
      const deleted = await inTenant(pool, ORG_A, (db) =>
        db.query('DELETE FROM roles WHERE org_id = $1', [ORG_B]),
      );
      assert.equal(deleted.rowCount, 0);
      assert.ok((await store.load(ORG_B)).roles.length > 0);
    });
  });
});
