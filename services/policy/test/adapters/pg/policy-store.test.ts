import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createPolicyStore, type PolicyStore } from '../../../src/adapters/pg/policy-store.js';
import { EMPTY_MODEL, type OrgModel, type RoleModel } from '../../../src/domain/model.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';
const role = (name: string, resourceId = '*'): RoleModel => ({
  name,
  description: `${name} role`,
  grants: [{ resourceType: 'model', resourceId, effect: 'allow' }],
});
/** A PutRole-like change: replaces or adds one role. */
const putRole =
  (r: RoleModel) =>
  (m: OrgModel): OrgModel => ({ ...m, roles: [...m.roles.filter((x) => x.name !== r.name), r] });
const accept = () => Promise.resolve();

describe('policy store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: PolicyStore;

  before(async () => {
    fx = await startPgFixture(['policy']);
    pool = fx.runtimePool('policy');
    store = createPolicyStore(pool);
    await store.edit(ORG_A, 'usr_admin', putRole(role('developer', 'claude-sonnet-4-5')), accept);
    await store.edit(ORG_B, 'usr_admin', putRole(role('admin')), accept);
  });
  after(() => fx?.stop());

  describe('schema', () => itHardensTheSchema('policy', ['models'], () => fx, ORG_A));

  describe('edit', () => {
    it('starts an org never edited at version 0 with the empty model', async () => {
      assert.equal(await store.version('org_new'), 0);
      assert.deepEqual(await store.load('org_new'), {
        orgId: 'org_new',
        version: 0,
        model: EMPTY_MODEL,
      });
    });

    it('saves the next version with the model before and after, and who made it', async () => {
      const before = await store.load(ORG_A);
      let seen: unknown;
      const edit = await store.edit(ORG_A, 'usr_editor', putRole(role('analyst')), async (e) => {
        seen = e;
        return Promise.resolve();
      });
      assert.equal(edit.version, before.version + 1);
      assert.deepEqual(edit.before, before.model);
      assert.deepEqual(seen, edit, 'beforeCommit sees the edit it guards');
      assert.deepEqual(await store.load(ORG_A), {
        orgId: ORG_A,
        version: edit.version,
        model: edit.after,
      });
      const { rows } = await fx.admin.query(
        'SELECT updated_by FROM policy.models WHERE org_id = $1',
        [ORG_A],
      );
      assert.deepEqual(rows, [{ updated_by: 'usr_editor' }]);
    });

    it('serialises concurrent edits: N edits end at version N with every change present', async () => {
      const org = 'org_concurrent';
      const n = 12;
      const edits = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          store.edit(org, 'usr_admin', putRole(role(`r${i}`)), accept),
        ),
      );
      assert.deepEqual(
        edits.map((e) => e.version).sort((a, b) => a - b),
        Array.from({ length: n }, (_, i) => i + 1),
      );
      const saved = await store.load(org);
      assert.equal(saved.version, n);
      assert.deepEqual(
        saved.model.roles.map((r) => r.name).sort(),
        Array.from({ length: n }, (_, i) => `r${i}`).sort(),
      );
    });

    const refusals = [
      {
        name: 'the change throws (validation refuses it)',
        change: () => {
          throw new Error('refused by validation');
        },
        beforeCommit: accept,
        error: /refused by validation/,
      },
      {
        name: 'the change event cannot be published',
        change: putRole(role('intern')),
        beforeCommit: () => Promise.reject(new Error('audit unavailable')),
        error: /audit unavailable/,
      },
    ];
    for (const c of refusals) {
      it(`changes nothing when ${c.name}`, async () => {
        const before = await store.load(ORG_A);
        await assert.rejects(store.edit(ORG_A, 'usr_admin', c.change, c.beforeCommit), c.error);
        assert.deepEqual(await store.load(ORG_A), before);
        await assert.rejects(
          store.edit('org_untouched', 'usr_admin', c.change, c.beforeCommit),
          c.error,
        );
        assert.equal(await store.version('org_untouched'), 0);
        const { rows } = await fx.admin.query('SELECT 1 FROM policy.models WHERE org_id = $1', [
          'org_untouched',
        ]);
        assert.deepEqual(rows, [], 'not even an empty row is left behind');
      });
    }
  });

  describe('tenant isolation', () => {
    it("loads only the org's own model", async () => {
      assert.deepEqual(
        (await store.load(ORG_B)).model.roles.map((r) => r.name),
        ['admin'],
      );
    });

    it("shows a tenant nothing of another org's model, even when it names the org", async () => {
      const { rows } = await inTenant(pool, ORG_A, (db) =>
        db.query('SELECT * FROM models WHERE org_id = $1', [ORG_B]),
      );
      assert.deepEqual(rows, []);
    });

    it('refuses to write a model for another org than app.org_id (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(`INSERT INTO models (org_id, version, model) VALUES ($1, 99, '{}')`, [
            'org_victim',
          ]),
        ),
        /row-level security/,
      );
    });

    it("cannot update or delete another org's model", async () => {
      const before = await store.load(ORG_B);
      const updated = await inTenant(pool, ORG_A, (db) =>
        db.query(`UPDATE models SET model = '{}', version = version + 1 WHERE org_id = $1`, [
          ORG_B,
        ]),
      );
      assert.equal(updated.rowCount, 0);
      await assert.rejects(
        inTenant(pool, ORG_A, (db) => db.query('DELETE FROM models WHERE org_id = $1', [ORG_B])),
        /permission denied/,
      );
      assert.deepEqual(await store.load(ORG_B), before);
    });
  });
});
