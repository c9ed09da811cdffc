import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { track } from './cleanup.js';
import { reapOrphan, type ProcessInfo } from './proc-inspect.js';
import { waitUntilReady } from './wait-ready.js';

/** Options for {@link createOwnedServer}. */
export interface OwnedServerOptions {
  /** Human name for messages ("redis on 127.0.0.1:6379"). */
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Working directory of the child; also how an orphan from an earlier run is recognised. */
  readonly cwd: string;
  /** Pid file the server writes itself, used to find an orphan of an earlier, killed run. */
  readonly pidFile: string;
  readonly logFile: string;
  readonly isReady: () => Promise<boolean>;
  /** Confirms a pid from the pid file is our server and not a reused pid. */
  readonly isOurs: (info: ProcessInfo) => boolean;
  readonly readyTimeoutMs?: number;
  readonly onLog?: (line: string) => void;
}

/** A server running as our own child process (never detached), tracked for cleanup at exit. */
export interface OwnedServer {
  /** Pid of the running child, undefined when stopped. */
  readonly pid: number | undefined;
  start(): Promise<void>;
  /** SIGTERM, then SIGKILL if it has not exited after 10 s. */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  restart(): Promise<void>;
}

interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly untrack: () => void;
}

/** Spawns and supervises a server binary as a child process we own. */
export function createOwnedServer(options: OwnedServerOptions): OwnedServer {
  let running: Running | undefined;
  const recentOutput: string[] = [];

  const remember = (chunk: Buffer): void => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      recentOutput.push(line);
      if (recentOutput.length > 20) recentOutput.shift();
      options.onLog?.(`${options.name}: ${line}`);
    }
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const current = running;
    if (current === undefined) return;
    running = undefined;
    current.untrack();
    if (current.child.exitCode === null && current.child.signalCode === null) {
      current.child.kill(signal);
      // unref'd timers: a pending grace period must not keep the process alive
      const timeout = (ms: number): Promise<boolean> => delay(ms, false, { ref: false });
      const stopped = await Promise.race([current.exited.then(() => true), timeout(10_000)]);
      if (!stopped) {
        current.child.kill('SIGKILL');
        await Promise.race([current.exited, timeout(5_000)]);
      }
    }
  };

  const start = async (): Promise<void> => {
    if (running !== undefined) return;
    await reapOrphan({
      pidFile: options.pidFile,
      isOurs: options.isOurs,
      ...optionalLog(options.onLog),
    });
    recentOutput.length = 0;
    const child = spawn(options.binary, [...options.args], {
      cwd: options.cwd,
      detached: false,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // 'error' without 'exit' happens when the binary cannot be spawned at all
    const exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => {
      spawnError = error;
    });
    child.stdout?.on('data', remember);
    child.stderr?.on('data', remember);
    const untrack = track({
      name: options.name,
      stop: () => halt('SIGTERM'),
      stopSync: () => child.kill('SIGTERM'),
    });
    running = { child, exited, untrack };
    try {
      await waitUntilReady(options.isReady, {
        what: options.name,
        logFile: options.logFile,
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        abortIf: () => {
          if (spawnError !== undefined)
            return `could not start ${options.binary}: ${spawnError.message}`;
          if (child.exitCode === null && child.signalCode === null) return undefined;
          const how =
            child.exitCode !== null
              ? `code ${child.exitCode}`
              : `signal ${String(child.signalCode)}`;
          return `process exited with ${how}; output: ${recentOutput.join(' | ') || '(none)'}`;
        },
      });
    } catch (error: unknown) {
      await halt('SIGKILL');
      throw error;
    }
  };

  return {
    get pid() {
      return running?.child.pid;
    },
    start,
    stop: () => halt('SIGTERM'),
    kill: () => halt('SIGKILL'),
    restart: async () => {
      await halt('SIGTERM');
      await start();
    },
  };
}

/** Spreads an optional callback without writing `undefined` into an exact optional property. */
export function optionalLog(onLog: ((line: string) => void) | undefined): {
  onLog?: (line: string) => void;
} {
  return onLog === undefined ? {} : { onLog };
}
