import { readdirSync } from 'node:fs';
import pg from 'pg';
import Postgrator from 'postgrator';

/** Names of a service's database roles and schema. */
export function dbNames(service: string) {
  return {
    schema: service,
    owner: `fortress_${service}_owner`,
    runtime: `fortress_${service}`,
  };
}

/** Options to provision and migrate one service's schema. */
export interface ProvisionOptions {
  /** A superuser (or migrator) URL for the target database. */
  adminUrl: string;
  service: string;
  /** Password of the service's runtime login role. */
  runtimePassword: string;
  /** Directory of `NNN.do.<name>.sql` migrations. */
  migrationsDir: string;
}

/**
 * Creates the service's roles and schema if missing, then applies its migrations as the
 * schema owner. The owner cannot log in; the runtime role can, owns nothing, and gets only
 * the grants the migrations give it — so row-level security always applies to it.
 */
export async function provisionService(options: ProvisionOptions): Promise<number> {
  const { schema, owner, runtime } = dbNames(options.service);
  const client = new pg.Client({ connectionString: options.adminUrl });
  await client.connect();
  try {
    const ident = (s: string) => client.escapeIdentifier(s);
    await client.query(`
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${owner}') THEN
          CREATE ROLE ${ident(owner)} NOLOGIN;
        END IF;
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${runtime}') THEN
          CREATE ROLE ${ident(runtime)} LOGIN;
        END IF;
      END $$`);
    await client.query(
      `ALTER ROLE ${ident(runtime)} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD ${client.escapeLiteral(options.runtimePassword)}`,
    );
    await client.query(
      `CREATE SCHEMA IF NOT EXISTS ${ident(schema)} AUTHORIZATION ${ident(owner)}`,
    );
    await client.query(`GRANT USAGE ON SCHEMA ${ident(schema)} TO ${ident(runtime)}`);
    await client.query(`ALTER ROLE ${ident(runtime)} SET search_path = ${ident(schema)}`);
    await client.query(`SET ROLE ${ident(owner)}`);
    await client.query(`SET search_path = ${ident(schema)}`);
    const postgrator = new Postgrator({
      migrationPattern: `${options.migrationsDir}/*.sql`,
      driver: 'pg',
      schemaTable: 'schemaversion',
      currentSchema: schema,
      execQuery: (query) => client.query(query),
    });
    const applied = await postgrator.migrate();
    return applied.length;
  } finally {
    await client.end();
  }
}

/** True when a directory has migrations (used to skip services that own no tables yet). */
export function hasMigrations(dir: string): boolean {
  try {
    return readdirSync(dir).some((f) => f.endsWith('.sql'));
  } catch {
    return false;
  }
}
