import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Whether a pid is running, a zombie (dead but not yet reaped) or gone. */
export type ProcessState = 'running' | 'zombie' | 'gone';

/** What /proc tells about a process (Linux); fields are undefined where unreadable. */
export interface ProcessInfo {
  readonly comm: string | undefined;
  readonly cwd: string | undefined;
  readonly cmdline: readonly string[];
}

function tryRead<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

/** State of a pid; zombies count separately because kill(pid, 0) still succeeds on them. */
export function processState(pid: number): ProcessState {
  const stat = tryRead(() => readFileSync(`/proc/${pid}/stat`, 'utf8'));
  if (stat !== undefined) {
    // the state letter follows the parenthesised command name, which may itself contain ')'
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state === 'Z' || state === 'X' ? 'zombie' : 'running';
  }
  try {
    process.kill(pid, 0);
    return 'running';
  } catch (error: unknown) {
    return (error as NodeJS.ErrnoException).code === 'EPERM' ? 'running' : 'gone';
  }
}

/** Reads comm, cwd and argv of a pid from /proc. */
export function processInfo(pid: number): ProcessInfo {
  return {
    comm: tryRead(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim()),
    cwd: tryRead(() => readlinkSync(`/proc/${pid}/cwd`)),
    cmdline: (tryRead(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8')) ?? '')
      .split('\0')
      .filter((arg) => arg !== ''),
  };
}

/** The pid on the first line of a pid file, or undefined when absent or malformed. */
export function readPidFile(file: string): number | undefined {
  const text = tryRead(() => readFileSync(file, 'utf8'));
  const pid = Number.parseInt(text?.split('\n')[0]?.trim() ?? '', 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Polls until the pid is gone or a zombie; returns false on timeout. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (processState(pid) === 'running') {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

/** Options for {@link reapOrphan}. */
export interface ReapOptions {
  readonly pidFile: string;
  /** Confirms the live pid is really ours (pids are reused); only then is it killed. */
  readonly isOurs: (info: ProcessInfo) => boolean;
  readonly onLog?: (line: string) => void;
}

/** Stops a server left running by an earlier, killed run (found through its pid file) and removes the pid file. */
export async function reapOrphan(options: ReapOptions): Promise<void> {
  const pid = readPidFile(options.pidFile);
  if (pid !== undefined && processState(pid) === 'running' && options.isOurs(processInfo(pid))) {
    options.onLog?.(`stopping pid ${pid} left running by an earlier run (${options.pidFile})`);
    process.kill(pid, 'SIGTERM');
    if (!(await waitForExit(pid, 10_000))) {
      process.kill(pid, 'SIGKILL');
      await waitForExit(pid, 5_000);
    }
  }
  rmSync(options.pidFile, { force: true });
}
