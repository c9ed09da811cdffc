import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { postgresBinDir } from './binaries.js';
import { runChecked, runCommand, type Command } from './run-command.js';

/** Where things live inside a Postgres data dir of ours. */
export interface PgLayout {
  readonly dataDir: string;
  /** The cluster itself (PGDATA); a subdirectory because initdb wants an empty directory. */
  readonly pgData: string;
  readonly socketDir: string;
  readonly logFile: string;
  readonly passwordFile: string;
  /** Our settings, included from postgresql.conf and rewritten at every start. */
  readonly confFile: string;
  readonly pidFile: string;
}

/** Runs the PostgreSQL tools, as user postgres when we are root (postgres refuses to run as root). */
export interface PgRunner {
  readonly binDir: string;
  readonly owner: { readonly uid: number; readonly gid: number } | undefined;
  command(tool: string, args: readonly string[]): Command;
}

/** The file layout under `dataDir`. */
export function pgLayout(dataDir: string): PgLayout {
  const root = resolve(dataDir);
  const pgData = join(root, 'pgdata');
  return {
    dataDir: root,
    pgData,
    socketDir: join(root, 'run'),
    logFile: join(root, 'postgres.log'),
    passwordFile: join(root, 'superuser-password'),
    confFile: join(pgData, 'fortress.conf'),
    pidFile: join(pgData, 'postmaster.pid'),
  };
}

function postgresAccount(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) {
    throw new Error(
      'running as root but there is no "postgres" user; install the Debian package: apt-get install -y postgresql',
    );
  }
  return { uid: Number(uid), gid: Number(gid) };
}

/** Picks the bin dir matching an existing cluster's version (else the newest) and the user to run as. */
export function pgRunner(layout: PgLayout): PgRunner {
  const versionFile = join(layout.pgData, 'PG_VERSION');
  const version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : undefined;
  const binDir = postgresBinDir(version);
  const owner = process.getuid?.() === 0 ? postgresAccount() : undefined;
  const env = { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' };
  return {
    binDir,
    owner,
    command: (tool, args) => ({
      file: join(binDir, tool),
      args,
      env,
      cwd: layout.dataDir,
      ...(owner === undefined ? {} : { asUser: 'postgres' }),
    }),
  };
}

async function own(runner: PgRunner, path: string): Promise<void> {
  if (runner.owner !== undefined) await chown(path, runner.owner.uid, runner.owner.gid);
}

/** Creates the data dir (mode 0700, owned by postgres when root) and checks the postgres user can reach it. */
export async function prepareDataDir(layout: PgLayout, runner: PgRunner): Promise<void> {
  for (const dir of [layout.dataDir, layout.socketDir]) {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await chmod(dir, 0o700);
    await own(runner, dir);
  }
  // postgres appends "/.s.PGSQL.<port>"; sun_path holds 107 bytes plus the terminating NUL
  if (Buffer.byteLength(join(layout.socketDir, '.s.PGSQL.65535')) > 107) {
    throw new Error(
      `data dir path "${layout.dataDir}" is too long for a unix socket inside it; use a shorter path`,
    );
  }
  if (runner.owner === undefined) return;
  const probe = await runCommand({
    file: 'test',
    args: ['-w', layout.dataDir, '-a', '-x', layout.dataDir],
    asUser: 'postgres',
    cwd: '/',
  });
  if (probe.code === 0) return;
  let blocked = dirname(layout.dataDir);
  for (let dir = dirname(layout.dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    const reach = await runCommand({
      file: 'test',
      args: ['-x', dir],
      asUser: 'postgres',
      cwd: '/',
    });
    if (reach.code !== 0) blocked = dir;
  }
  throw new Error(
    `user postgres cannot reach "${layout.dataDir}": "${blocked}" is not searchable by other users ` +
      `(chmod o+x it, or put the data dir elsewhere)`,
  );
}

/** Runs initdb on first use and returns the superuser password (generated once, kept in a 0600 file). */
export async function ensureCluster(
  layout: PgLayout,
  runner: PgRunner,
  options: { readonly fast: boolean; readonly onLog?: (line: string) => void },
): Promise<string> {
  const initialised = existsSync(join(layout.pgData, 'PG_VERSION'));
  const hasPassword = existsSync(layout.passwordFile);
  if (initialised && !hasPassword) {
    throw new Error(
      `cluster in "${layout.pgData}" exists but its password file "${layout.passwordFile}" is gone`,
    );
  }
  if (!hasPassword) {
    await writeFile(layout.passwordFile, `${randomBytes(24).toString('base64url')}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
    await own(runner, layout.passwordFile);
  }
  const password = (await readFile(layout.passwordFile, 'utf8')).trim();
  if (initialised) return password;
  // a pgdata without PG_VERSION is what an interrupted initdb leaves: it never held data
  await rm(layout.pgData, { recursive: true, force: true });
  options.onLog?.(`postgres: initialising a new cluster in ${layout.pgData}`);
  await runChecked(
    runner.command('initdb', [
      '-D',
      layout.pgData,
      '-U',
      'postgres',
      '--auth=scram-sha-256',
      `--pwfile=${layout.passwordFile}`,
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      ...(options.fast ? ['--no-sync'] : []),
    ]),
  );
  await appendFile(
    join(layout.pgData, 'postgresql.conf'),
    "\ninclude_if_exists = 'fortress.conf'\n",
  );
  return password;
}

/** Server settings written to fortress.conf before each start. */
export interface PgSettings {
  readonly host: string;
  readonly port: number;
  readonly fast: boolean;
}

/** Writes fortress.conf: loopback listen address, port, socket dir inside the data dir, durability knobs. */
export async function writeServerConfig(
  layout: PgLayout,
  runner: PgRunner,
  settings: PgSettings,
): Promise<void> {
  const quote = (value: string): string => `'${value.replaceAll("'", "''")}'`;
  const durable = settings.fast ? 'off' : 'on';
  const lines = [
    '# written by @fortress/harness at every start; edits are overwritten',
    `listen_addresses = ${quote(settings.host)}`,
    `port = ${settings.port}`,
    `unix_socket_directories = ${quote(layout.socketDir)}`,
    `fsync = ${durable}`,
    `synchronous_commit = ${durable}`,
    `full_page_writes = ${durable}`,
  ];
  await writeFile(layout.confFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  await own(runner, layout.confFile);
}
