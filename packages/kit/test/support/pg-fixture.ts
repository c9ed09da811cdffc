import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, type PostgresHandle } from '@fortress/harness/infra/postgres';
import { dbNames, provisionService } from '../../src/db-provision.js';
import { createPool } from '../../src/pg.js';

const DATABASE = 'fortress_test';

/** Where a service's migrations live. */
export function migrationsDir(service: string): string {
  return fileURLToPath(new URL(`../../../../services/${service}/migrations`, import.meta.url));
}

/** A throwaway PostgreSQL cluster with one database and the given services provisioned. */
export interface PgFixture {
  readonly server: PostgresHandle;
  /** Superuser URL of the test database. */
  readonly adminUrl: string;
  /** A superuser pool on the test database (bypasses RLS: for setup and raw inspection). */
  readonly admin: pg.Pool;
  /** Password of every runtime role. */
  readonly runtimePassword: string;
  /** A pool connected as the service's runtime role, as the service itself connects. */
  runtimePool: (service: string) => pg.Pool;
  /** Runs the service's provisioning (roles, schema, migrations) again; the number of migrations applied. */
  provision: (service: string) => Promise<number>;
  stop: () => Promise<void>;
}

/**
 * Starts a cluster in a temp dir (fast, durability off), creates the test database and provisions
 * each service as deploy does. One per test file: call in `before`, stop in `after`.
 */
export async function startPgFixture(services: string[]): Promise<PgFixture> {
  const root = await mkdtemp(join(tmpdir(), 'fortress-pg-test-'));
  // postgres runs as its own user when we are root and must be able to traverse the dir
  await chmod(root, 0o755);
  const server = await startPostgres({ dataDir: join(root, 'pg'), fast: true });
  const pools: pg.Pool[] = [];
  try {
    await server.createDatabase(DATABASE);
    const url = new URL(server.superuserUrl);
    url.pathname = `/${DATABASE}`;
    const adminUrl = url.toString();
    const runtimePassword = randomBytes(12).toString('hex');
    const provision = (service: string) =>
      provisionService({
        adminUrl,
        service,
        runtimePassword,
        migrationsDir: migrationsDir(service),
      });
    for (const service of services) await provision(service);
    const admin = new pg.Pool({ connectionString: adminUrl, max: 4 });
    // pool.end() resolves once each idle client was asked to end, not once its backend left:
    // on a loaded machine the server's fast shutdown right after can still reach one (57P01),
    // which an unheard pool would throw as an uncaught error into whichever test runs then.
    admin.on('error', () => undefined);
    pools.push(admin);
    return {
      server,
      adminUrl,
      admin,
      runtimePassword,
      runtimePool(service) {
        const pool = createPool({
          url: server.url(dbNames(service).runtime, runtimePassword, DATABASE),
          service,
          max: 4,
        });
        pools.push(pool);
        return pool;
      },
      provision,
      async stop() {
        await Promise.all(pools.map((p) => p.end()));
        await server.stop();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(pools.map((p) => p.end()));
    await server.stop().catch(() => undefined);
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/** Connects once with the given URL and runs `sql`; the rows. */
export async function queryAs(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Array<Record<string, unknown>>> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}
