import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { stopAll } from '../src/infra/cleanup.js';
import { startPostgres, type PostgresHandle } from '../src/infra/postgres.js';
import { processState, readPidFile, waitForExit } from '../src/infra/proc-inspect.js';

async function query(
  url: string,
  sql: string,
  values: unknown[] = [],
): Promise<Array<Record<string, unknown>>> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, values)).rows as Array<Record<string, unknown>>;
  } finally {
    await client.end();
  }
}

describe('startPostgres', function () {
  let root: string;
  let dataDir: string;
  let pg: PostgresHandle | undefined;
  const logs: string[] = [];
  const start = async (): Promise<PostgresHandle> => {
    pg = await startPostgres({ dataDir, fast: true, onLog: (line) => logs.push(line) });
    return pg;
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fortress-pg-'));
    // mkdtemp makes 0700 dirs; when we are root, postgres runs as user postgres and must traverse it
    await chmod(root, 0o755);
    dataDir = join(root, 'pg');
  });

  after(async () => {
    await pg?.stop({ mode: 'immediate' });
    await stopAll();
    await rm(root, { recursive: true, force: true });
  });

  it('initialises a cluster on loopback and answers queries as superuser', async () => {
    const handle = await start();
    assert.equal(handle.host, '127.0.0.1');
    assert.match(
      handle.superuserUrl,
      new RegExp(`^postgres://postgres:[^@]+@127\\.0\\.0\\.1:${handle.port}/postgres$`),
    );
    const [row] = await query(
      handle.superuserUrl,
      "SELECT current_user AS who, current_setting('server_encoding') AS enc, current_setting('fsync') AS fsync, current_setting('listen_addresses') AS listen",
    );
    assert.deepEqual(row, { who: 'postgres', enc: 'UTF8', fsync: 'off', listen: '127.0.0.1' });
    await query(handle.superuserUrl, 'CREATE TABLE kept (v text)');
    await query(handle.superuserUrl, "INSERT INTO kept VALUES ('first run')");
    assert.equal(statSync(join(dataDir, 'superuser-password')).mode & 0o777, 0o600);
    assert.ok(logs.some((line) => line.includes('initialising')));
  });

  it('rejects a wrong password (scram-sha-256 auth)', async () => {
    const handle = pg!;
    await assert.rejects(
      query(handle.url('postgres', 'wrong', 'postgres'), 'SELECT 1'),
      /password authentication failed/,
    );
  });

  it('reuses the cluster, password and data when started again on the same dir', async () => {
    const first = pg!;
    await first.stop();
    assert.equal(existsSync(join(dataDir, 'pgdata', 'postmaster.pid')), false);
    await assert.rejects(query(first.superuserUrl, 'SELECT 1'));
    logs.length = 0;
    const second = await start();
    assert.equal(
      logs.some((line) => line.includes('initialising')),
      false,
    );
    assert.equal(second.superuserUrl.split('@')[0], first.superuserUrl.split('@')[0]);
    assert.deepEqual(await query(second.superuserUrl, 'SELECT v FROM kept'), [{ v: 'first run' }]);
  });

  it('restarts on the same port with a new postmaster', async () => {
    const handle = pg!;
    const pidFile = join(dataDir, 'pgdata', 'postmaster.pid');
    const before = readPidFile(pidFile);
    await handle.restart();
    assert.notEqual(readPidFile(pidFile), before);
    assert.deepEqual(await query(handle.superuserUrl, 'SELECT v FROM kept'), [{ v: 'first run' }]);
  });

  it('recovers from a stale postmaster.pid after the postmaster was killed', async () => {
    const pidFile = join(dataDir, 'pgdata', 'postmaster.pid');
    const pid = readPidFile(pidFile);
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    assert.equal(await waitForExit(pid, 10_000), true);
    assert.equal(existsSync(pidFile), true, 'a killed postmaster leaves its pid file behind');
    logs.length = 0;
    const handle = await start();
    assert.ok(
      logs.some((line) => line.includes('stale')),
      logs.join('\n'),
    );
    assert.notEqual(processState(readPidFile(pidFile) ?? 0), 'gone');
    assert.deepEqual(await query(handle.superuserUrl, 'SELECT v FROM kept'), [{ v: 'first run' }]);
  });

  it('creates a database once and tolerates creating it again', async () => {
    const handle = pg!;
    await handle.createDatabase('app-db');
    await handle.createDatabase('app-db');
    const password = decodeURIComponent(new URL(handle.superuserUrl).password);
    const [row] = await query(
      handle.url('postgres', password, 'app-db'),
      'SELECT current_database() AS db',
    );
    assert.deepEqual(row, { db: 'app-db' });
  });

  it('stops with mode immediate and starts again after crash recovery', async () => {
    await pg!.stop({ mode: 'immediate' });
    const handle = await start();
    assert.deepEqual(await query(handle.superuserUrl, 'SELECT v FROM kept'), [{ v: 'first run' }]);
  });
});
