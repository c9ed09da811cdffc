import assert from 'node:assert/strict';
import type pg from 'pg';
import { inTenant } from '../../src/pg.js';
import { dbNames } from '../../src/db-provision.js';
import { queryAs, type PgFixture } from './pg-fixture.js';

/** The state of a schema that provisioning must not change when it runs again. */
async function schemaSnapshot(admin: pg.Pool, schema: string): Promise<unknown> {
  const tables = await admin.query(
    `SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner, c.relacl::text AS acl
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'S', 'v', 'f') ORDER BY c.relname`,
    [schema],
  );
  const policies = await admin.query(
    'SELECT tablename, policyname, roles::text, cmd, qual, with_check FROM pg_policies WHERE schemaname = $1 ORDER BY 1, 2',
    [schema],
  );
  const migrations = await admin.query(
    `SELECT version, name, md5 FROM ${schema}.schemaversion ORDER BY version`,
  );
  return { tables: tables.rows, policies: policies.rows, migrations: migrations.rows };
}

/**
 * The checks every service schema must pass: the runtime role owns nothing and cannot get around
 * row-level security, every tenant table has RLS enabled and forced, and provisioning again is a
 * no-op. `tenantTables` and `untenantedTables` together list every table of the schema except
 * postgrator's `schemaversion`, so a new table fails here until someone decides which it is.
 * Untenanted tables (no trustworthy org, e.g. rejected events) are exempt from the RLS checks.
 */
export function itHardensTheSchema(
  service: string,
  tenantTables: string[],
  fixture: () => PgFixture,
  /** An org whose rows the test file wrote in every tenant table before these checks run. */
  seededOrgId: string,
  untenantedTables: string[] = [],
): void {
  const { schema, owner, runtime } = dbNames(service);

  it(`gives ${runtime} no superuser, BYPASSRLS, CREATEROLE or CREATEDB, and leaves ${owner} unable to log in`, async () => {
    const { rows } = await fixture().admin.query(
      'SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname',
      [[owner, runtime]],
    );
    assert.deepEqual(rows, [
      {
        rolname: runtime,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolcanlogin: true,
      },
      {
        rolname: owner,
        rolsuper: false,
        rolbypassrls: false,
        rolcreaterole: false,
        rolcreatedb: false,
        rolcanlogin: false,
      },
    ]);
  });

  it(`lets ${runtime} own nothing in the schema, create nothing in it, nor become ${owner}`, async () => {
    const { admin, server, runtimePassword } = fixture();
    const owned = await admin.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND pg_get_userbyid(c.relowner) <> $2`,
      [schema, owner],
    );
    assert.deepEqual(owned.rows, [], 'every object of the schema belongs to the owner role');
    const { rows } = await admin.query(
      `SELECT pg_get_userbyid(nspowner) AS schema_owner,
              has_schema_privilege($2, $1, 'CREATE') AS can_create,
              pg_has_role($2, $3, 'MEMBER') AS member_of_owner
         FROM pg_namespace WHERE nspname = $1`,
      [schema, runtime, owner],
    );
    assert.deepEqual(rows, [{ schema_owner: owner, can_create: false, member_of_owner: false }]);
    const asRuntime = server.url(runtime, runtimePassword, 'fortress_test');
    await assert.rejects(queryAs(asRuntime, `SET ROLE ${owner}`), /permission denied/);
    await assert.rejects(
      queryAs(asRuntime, `CREATE TABLE ${schema}.sneaky (org_id text)`),
      /permission denied/,
    );
    await assert.rejects(
      queryAs(server.url(owner, runtimePassword, 'fortress_test'), 'SELECT 1'),
      /authentication failed|not permitted to log in/,
    );
  });

  it('enables and forces row-level security, with a policy, on every tenant table', async () => {
    const { rows } = await fixture().admin.query(
      `SELECT c.relname AS table, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              (SELECT count(*)::int FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname) AS policies
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND c.relname <> 'schemaversion' ORDER BY c.relname`,
      [schema],
    );
    assert.deepEqual(
      rows.map((r: { table: string }) => r.table),
      [...tenantTables, ...untenantedTables].sort(),
    );
    for (const r of (rows as Array<{ table: string }>).filter((t) =>
      tenantTables.includes(t.table),
    ) as Array<{
      table: string;
      enabled: boolean;
      forced: boolean;
      policies: number;
    }>) {
      assert.ok(r.enabled && r.forced, `${r.table}: RLS enabled=${r.enabled} forced=${r.forced}`);
      assert.ok(r.policies > 0, `${r.table} has no policy`);
    }
  });

  it('shows the runtime role zero rows of any tenant table when app.org_id is not set', async () => {
    const { server, runtimePassword } = fixture();
    const asRuntime = server.url(runtime, runtimePassword, 'fortress_test');
    for (const table of tenantTables) {
      const [row] = await queryAs(asRuntime, `SELECT count(*)::int AS n FROM ${schema}.${table}`);
      const [all] = await fixture()
        .admin.query(`SELECT count(*)::int AS n FROM ${schema}.${table}`)
        .then((r) => r.rows as Array<{ n: number }>);
      assert.ok((all?.n ?? 0) > 0, `${table} should hold rows for this check (write some before)`);
      assert.equal(row?.['n'], 0, `${table} leaked rows without a tenant`);
    }
  });

  it('shows zero rows on a pooled connection once its tenant transaction ended', async () => {
    const pool = fixture().runtimePool(service);
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query("SELECT set_config('app.org_id', $1, true)", [seededOrgId]);
      for (const table of tenantTables) {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table}`,
        );
        assert.ok(
          (rows[0]?.n ?? 0) > 0,
          `${table}: the tenant sees its rows inside the transaction`,
        );
      }
      await client.query('COMMIT');
      for (const table of tenantTables) {
        const { rows } = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table}`,
        );
        assert.equal(rows[0]?.n, 0, `${table}: rows still visible after COMMIT`);
      }
    } finally {
      client.release();
    }
    const visible = await inTenant(pool, seededOrgId, (db) =>
      db.query(`SELECT 1 FROM ${tenantTables[0] ?? 'none'}`),
    );
    assert.ok((visible.rowCount ?? 0) > 0);
  });

  it('changes nothing when provisioned again', async () => {
    const { admin, provision } = fixture();
    const before = await schemaSnapshot(admin, schema);
    assert.equal(await provision(service), 0);
    assert.deepEqual(await schemaSnapshot(admin, schema), before);
  });
}
