import { Client, escapeIdentifier } from 'pg';
import { track } from './cleanup.js';
import { freePort } from './free-port.js';
import {
  ensureCluster,
  pgLayout,
  pgRunner,
  prepareDataDir,
  writeServerConfig,
} from './postgres-cluster.js';
import {
  clearLeftovers,
  startServer,
  stopServer,
  stopServerSync,
  type PgStopMode,
} from './postgres-control.js';
import { waitUntilReady } from './wait-ready.js';

/** Options for {@link startPostgres}. */
export interface PostgresOptions {
  /** Holds the cluster (`pgdata/`), socket dir, log and superuser password; reused when started again. */
  readonly dataDir: string;
  /** TCP port; a free one is chosen when omitted. */
  readonly port?: number;
  /** Loopback address to listen on; default 127.0.0.1. */
  readonly host?: string;
  /** Trades durability for speed (fsync, synchronous_commit and full_page_writes off): tests only. */
  readonly fast?: boolean;
  readonly onLog?: (line: string) => void;
}

/** A running PostgreSQL cluster started by {@link startPostgres}. */
export interface PostgresHandle {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** Connection URL as superuser `postgres` to database `postgres`. */
  readonly superuserUrl: string;
  /** Connection URL for the given credentials and database on this server. */
  url(user: string, password: string, database: string): string;
  /** Creates a database owned by the superuser unless it exists. */
  createDatabase(name: string): Promise<void>;
  /** Stops the server; default mode `fast`. */
  stop(options?: { readonly mode?: PgStopMode }): Promise<void>;
  /** Stops (fast) and starts again on the same port. */
  restart(): Promise<void>;
}

/** Connects and runs `SELECT 1`; the proof that the server accepts authenticated TCP connections. */
async function canQuery(connectionString: string): Promise<boolean> {
  const client = new Client({ connectionString, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts PostgreSQL on loopback from the Debian packages, running initdb on first use of `dataDir`. */
export async function startPostgres(options: PostgresOptions): Promise<PostgresHandle> {
  const layout = pgLayout(options.dataDir);
  const runner = pgRunner(layout);
  const host = options.host ?? '127.0.0.1';
  const fast = options.fast ?? false;
  const onLog = options.onLog;
  await prepareDataDir(layout, runner);
  const password = await ensureCluster(layout, runner, {
    fast,
    ...(onLog === undefined ? {} : { onLog }),
  });
  await clearLeftovers(layout, runner, onLog);
  const port = options.port ?? (await freePort(host));
  await writeServerConfig(layout, runner, { host, port, fast });

  const urlHost = host.includes(':') ? `[${host}]` : host;
  const url = (user: string, pass: string, database: string): string =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@${urlHost}:${port}/${encodeURIComponent(database)}`;
  const superuserUrl = url('postgres', password, 'postgres');

  let untrack: (() => void) | undefined;
  const stop = async (mode: PgStopMode = 'fast'): Promise<void> => {
    untrack?.();
    untrack = undefined;
    await stopServer(layout, runner, mode);
  };
  const start = async (): Promise<void> => {
    await startServer(layout, runner);
    untrack = track({
      name: `postgres on ${host}:${port}`,
      stop: () => stop('fast'),
      stopSync: () => stopServerSync(layout, runner),
    });
    try {
      await waitUntilReady(() => canQuery(superuserUrl), {
        what: `postgres on ${host}:${port}`,
        logFile: layout.logFile,
        timeoutMs: 30_000,
      });
    } catch (error: unknown) {
      await stop('immediate').catch(() => undefined);
      throw error;
    }
  };
  await start();
  onLog?.(`postgres: ready on ${host}:${port} (${layout.dataDir})`);

  return {
    host,
    port,
    dataDir: layout.dataDir,
    logFile: layout.logFile,
    superuserUrl,
    url,
    createDatabase: async (name) => {
      const client = new Client({ connectionString: superuserUrl });
      await client.connect();
      try {
        const existing = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (existing.rowCount === 0)
          await client.query(`CREATE DATABASE ${escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
    },
    stop: (stopOptions) => stop(stopOptions?.mode ?? 'fast'),
    restart: async () => {
      await stop('fast');
      await clearLeftovers(layout, runner, onLog);
      await start();
    },
  };
}
