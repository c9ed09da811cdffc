import { spawn, spawnSync } from 'node:child_process';

/** A command line, optionally run as another user. */
export interface Command {
  readonly file: string;
  readonly args: readonly string[];
  /** Run through `runuser -u <user> --` (only meaningful when we are root). */
  readonly asUser?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Working directory; pass one the target user can enter (runuser keeps ours otherwise). */
  readonly cwd?: string;
}

/** What a finished command printed and how it ended. */
export interface CommandResult {
  readonly code: number | null;
  readonly output: string;
}

function argv(command: Command): [string, string[]] {
  if (command.asUser === undefined) return [command.file, [...command.args]];
  return ['runuser', ['-u', command.asUser, '--', command.file, ...command.args]];
}

function describe(command: Command): string {
  return [command.file, ...command.args].join(' ');
}

/** Runs a command to completion, collecting stdout and stderr together; never throws on a non-zero exit. */
export function runCommand(command: Command, timeoutMs = 120_000): Promise<CommandResult> {
  const [file, args] = argv(command);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: command.env ?? process.env,
      ...(command.cwd === undefined ? {} : { cwd: command.cwd }),
      timeout: timeoutMs,
      killSignal: 'SIGKILL',
    });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.once('error', (error) =>
      reject(new Error(`could not run "${describe(command)}": ${error.message}`)),
    );
    child.once('close', (code) =>
      resolve({ code, output: Buffer.concat(chunks).toString('utf8').trim() }),
    );
  });
}

/** Like {@link runCommand} but throws with the command's output when it exits non-zero. */
export async function runChecked(command: Command, timeoutMs?: number): Promise<string> {
  const result = await runCommand(command, timeoutMs);
  if (result.code !== 0) {
    throw new Error(
      `"${describe(command)}" exited with code ${String(result.code)}: ${result.output}`,
    );
  }
  return result.output;
}

/** Synchronous variant for process-exit hooks, where nothing asynchronous runs any more. */
export function runCommandSync(command: Command, timeoutMs = 30_000): CommandResult {
  const [file, args] = argv(command);
  const result = spawnSync(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: command.env ?? process.env,
    ...(command.cwd === undefined ? {} : { cwd: command.cwd }),
    timeout: timeoutMs,
  });
  return {
    code: result.status,
    output: `${String(result.stdout ?? '')}${String(result.stderr ?? '')}`.trim(),
  };
}
