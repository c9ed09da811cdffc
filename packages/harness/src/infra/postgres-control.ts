import { existsSync, statSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { PgLayout, PgRunner } from './postgres-cluster.js';
import { processInfo, processState, readPidFile } from './proc-inspect.js';
import { runCommand, runCommandSync } from './run-command.js';
import { tailFile } from './wait-ready.js';

/** How pg_ctl stops the server: `fast` rolls back sessions and checkpoints, `immediate` is a crash (recovery at next start). */
export type PgStopMode = 'fast' | 'immediate';

/** True when a live postmaster (not a zombie, not a reused pid) serves our pgdata. */
export function postmasterRunning(layout: PgLayout): boolean {
  const pid = readPidFile(layout.pidFile);
  if (pid === undefined || processState(pid) !== 'running') return false;
  const info = processInfo(pid);
  return info.comm === 'postgres' && info.cmdline.includes(layout.pgData);
}

/**
 * Deals with a postmaster.pid left behind: a live postmaster of an earlier run on this dir is stopped,
 * a stale file (killed run, pid now dead, a zombie or reused) is removed with the socket lock files.
 */
export async function clearLeftovers(
  layout: PgLayout,
  runner: PgRunner,
  onLog?: (line: string) => void,
): Promise<void> {
  if (!existsSync(layout.pidFile)) return;
  const status = await runCommand(runner.command('pg_ctl', ['status', '-D', layout.pgData]));
  // pg_ctl status only does kill(pid, 0), which also succeeds for zombies and reused pids: check /proc as well
  if (status.code === 0 && postmasterRunning(layout)) {
    onLog?.(`postgres: stopping the server an earlier run left running on ${layout.pgData}`);
    await stopServer(layout, runner, 'fast');
    return;
  }
  onLog?.(
    `postgres: removing stale ${layout.pidFile} (${status.output.split('\n')[0] ?? 'no status'})`,
  );
  await rm(layout.pidFile, { force: true });
  for (const entry of await readdir(layout.socketDir)) {
    if (entry.startsWith('.s.PGSQL.')) await rm(join(layout.socketDir, entry), { force: true });
  }
}

/** Errors after which a start attempt is worth repeating: old backends of a killed postmaster still hold shared memory. */
const TRANSIENT = [/pre-existing shared memory block/i, /lock file .* already exists/i];

/** Starts the server with `pg_ctl -w`, retrying for transient leftovers of a killed server until the timeout. */
export async function startServer(
  layout: PgLayout,
  runner: PgRunner,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const offset = existsSync(layout.logFile) ? statSync(layout.logFile).size : 0;
    const seconds = String(Math.max(5, Math.ceil((deadline - Date.now()) / 1_000)));
    const result = await runCommand(
      runner.command('pg_ctl', [
        'start',
        '-D',
        layout.pgData,
        '-l',
        layout.logFile,
        '-w',
        '-t',
        seconds,
      ]),
    );
    if (result.code === 0) return;
    const log = await tailFile(layout.logFile, 20, offset);
    if (!TRANSIENT.some((pattern) => pattern.test(log)) || Date.now() >= deadline) {
      throw new Error(
        `postgres did not start (pg_ctl: ${result.output})\n--- ${layout.logFile} ---\n${log}`,
      );
    }
    await delay(200);
  }
}

function stopArgs(layout: PgLayout, mode: PgStopMode): string[] {
  return ['stop', '-D', layout.pgData, '-m', mode, '-w', '-t', '60'];
}

/** Stops the server with `pg_ctl stop -w`; a server that is not running counts as stopped. */
export async function stopServer(
  layout: PgLayout,
  runner: PgRunner,
  mode: PgStopMode,
): Promise<void> {
  if (!postmasterRunning(layout)) return;
  const result = await runCommand(runner.command('pg_ctl', stopArgs(layout, mode)));
  if (result.code !== 0 && postmasterRunning(layout)) {
    throw new Error(`pg_ctl stop -m ${mode} failed: ${result.output}`);
  }
}

/** Synchronous `pg_ctl stop -m fast` for the process-exit hook. */
export function stopServerSync(layout: PgLayout, runner: PgRunner): void {
  if (postmasterRunning(layout)) runCommandSync(runner.command('pg_ctl', stopArgs(layout, 'fast')));
}
