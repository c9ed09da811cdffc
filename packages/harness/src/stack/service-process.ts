import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { track } from '../infra/cleanup.js';
import { REPO_ROOT } from './paths.js';

/** Ports a service announced in its "service ready" log line. */
export interface ServicePorts {
  grpcPort?: number;
  httpPort?: number;
  opsPort: number;
}

/** Options to run one Fortress service as a child process. */
export interface ServiceProcessOptions {
  name: string;
  env: Record<string, string>;
  logDir: string;
  /** How long to wait for "service ready". */
  readyTimeoutMs?: number;
}

/** A service running as its own process, with its log captured line by line. */
export interface ServiceProcess {
  readonly name: string;
  readonly ports: ServicePorts;
  /** Every line the process wrote to stdout or stderr since it first started. */
  readonly lines: readonly string[];
  readonly pid: number | undefined;
  /** How the last process exited: its code, or the signal that killed it; undefined while running. */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM, then wait for exit (graceful shutdown). */
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  /** Starts again with the same env and the same ports, so callers' addresses stay valid. */
  restart(): Promise<void>;
}

const entry = (name: string) => join(REPO_ROOT, 'services', name, 'src', 'main.ts');

/**
 * Runs `services/<name>/src/main.ts` under the current Node with tsx, waits for its
 * "service ready" line and reads its ports from it. Output goes to `<logDir>/<name>.log` and
 * stays in memory for tests that scan logs (e.g. for leaked secrets).
 */
export async function startServiceProcess(options: ServiceProcessOptions): Promise<ServiceProcess> {
  const lines: string[] = [];
  const log: WriteStream = createWriteStream(join(options.logDir, `${options.name}.log`), {
    flags: 'a',
    mode: 0o600,
  });
  let child: ChildProcess | undefined;
  let ports: ServicePorts = { opsPort: 0 };
  let env = { ...options.env };

  const launch = () =>
    new Promise<ServicePorts>((resolve, reject) => {
      const proc = spawn(process.execPath, ['--import', 'tsx', entry(options.name)], {
        cwd: REPO_ROOT,
        env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'production', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child = proc;
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `${options.name} did not become ready; last output:\n${lines.slice(-20).join('\n')}`,
            ),
          ),
        options.readyTimeoutMs ?? 30_000,
      );
      const onLine = (line: string) => {
        lines.push(line);
        log.write(`${line}\n`);
        if (!line.includes('"service ready"')) return;
        try {
          const parsed = JSON.parse(line) as ServicePorts & { msg: string };
          if (parsed.msg !== 'service ready') return;
          clearTimeout(timer);
          resolve({
            opsPort: parsed.opsPort,
            ...(parsed.grpcPort ? { grpcPort: parsed.grpcPort } : {}),
            ...(parsed.httpPort ? { httpPort: parsed.httpPort } : {}),
          });
        } catch {
          // not our line
        }
      };
      createInterface({ input: proc.stdout }).on('line', onLine);
      createInterface({ input: proc.stderr }).on('line', onLine);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(
            `${options.name} exited (${code ?? signal}) before it was ready:\n${lines.slice(-20).join('\n')}`,
          ),
        );
      });
    });

  const waitExit = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });

  // If this process dies, its services die with it (SIGKILL on exit, graceful on signals).
  const untrack = track({
    name: options.name,
    stop: () => waitExit('SIGTERM'),
    stopSync: () => child?.kill('SIGKILL'),
  });
  try {
    ports = await launch();
  } catch (err) {
    untrack();
    child?.kill('SIGKILL');
    throw err;
  }
  return {
    name: options.name,
    get ports() {
      return ports;
    },
    lines,
    get pid() {
      return child?.pid;
    },
    get exit() {
      if (!child || (child.exitCode === null && child.signalCode === null)) return undefined;
      return { code: child.exitCode, signal: child.signalCode };
    },
    // Stays tracked after a stop: a restarted process must die with the harness too.
    stop: () => waitExit('SIGTERM'),
    kill: () => waitExit('SIGKILL'),
    async restart() {
      await waitExit('SIGTERM');
      env = {
        ...env,
        ...(ports.grpcPort ? { FORTRESS_GRPC_PORT: String(ports.grpcPort) } : {}),
        ...(ports.httpPort ? { FORTRESS_EDGE_PORT: String(ports.httpPort) } : {}),
        FORTRESS_OPS_PORT: String(ports.opsPort),
      };
      ports = await launch();
    },
  };
}
