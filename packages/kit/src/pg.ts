import pg from 'pg';

/** A client or pool that can run a query. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/** Options for a service's connection pool. */
export interface PoolOptions {
  /** postgres:// URL of the service's own, non-owner role. */
  url: string;
  service: string;
  max?: number;
  /** Per-statement timeout, so a stuck query cannot hold a request forever. */
  statementTimeoutMs?: number;
}

/** Creates a connection pool for a service's runtime role. */
export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.url,
    application_name: `fortress-${options.service}`,
    max: options.max ?? 10,
    statement_timeout: options.statementTimeoutMs ?? 5000,
    connectionTimeoutMillis: 2000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client that errors (e.g. the server restarted) must not crash the process;
  // the next checkout gets a fresh connection.
  pool.on('error', () => undefined);
  // Nor may a checked-out one: a server shutdown (57P01) arriving between two queries of a
  // transaction is emitted as 'error' on the client, which nothing else listens to. Heard
  // here, it surfaces as the next query's rejection, and the pool discards the client.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/**
 * Runs `fn` in a transaction scoped to one tenant: `app.org_id` is set for this transaction
 * only, and row-level security on every tenant table admits only that org's rows.
 */
export async function inTenant<T>(
  pool: pg.Pool,
  orgId: string,
  fn: (db: Queryable) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  try {
    // One round trip: BEGIN and the tenant setting travel together (simple protocol, so the
    // org id is sent as an escaped literal; ids are validated before they get here anyway).
    await client.query(
      `BEGIN; SELECT set_config('app.org_id', ${client.escapeLiteral(orgId)}, true)`,
    );
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}

/** True when the pool can run a trivial query (readiness). */
export async function pgReady(pool: pg.Pool): Promise<boolean> {
  await pool.query('SELECT 1');
  return true;
}
