import { open } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';

/** Options for {@link waitUntilReady}. */
export interface WaitOptions {
  /** What is being waited for, used in the error message ("redis on 127.0.0.1:6379"). */
  readonly what: string;
  /** Give up after this long; default 30 s. */
  readonly timeoutMs?: number;
  /** Pause between probes; default 50 ms, doubling up to 500 ms. */
  readonly intervalMs?: number;
  /** Log file whose tail is quoted when waiting fails. */
  readonly logFile?: string;
  /** Returns a reason when waiting is pointless (the process exited); checked before each probe. */
  readonly abortIf?: () => string | undefined;
}

/** Error thrown when something did not become ready; the message carries the last probe error and the log tail. */
export class NotReadyError extends Error {
  override readonly name = 'NotReadyError';
}

/** Polls `probe` until it returns true, failing after the timeout with the last error and the tail of the log file. */
export async function waitUntilReady(
  probe: () => Promise<boolean>,
  options: WaitOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let interval = options.intervalMs ?? 50;
  let lastError = 'not ready';
  for (;;) {
    const aborted = options.abortIf?.();
    if (aborted !== undefined) {
      throw await notReady(`${options.what} will not become ready: ${aborted}`, options.logFile);
    }
    try {
      if (await probe()) return;
      lastError = 'probe answered not ready';
    } catch (error: unknown) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() >= deadline) {
      throw await notReady(
        `${options.what} not ready after ${timeoutMs} ms (last error: ${lastError})`,
        options.logFile,
      );
    }
    await delay(Math.min(interval, Math.max(0, deadline - Date.now())));
    interval = Math.min(interval * 2, 500);
  }
}

async function notReady(message: string, logFile: string | undefined): Promise<NotReadyError> {
  if (logFile === undefined) return new NotReadyError(message);
  const tail = await tailFile(logFile);
  return new NotReadyError(`${message}\n--- last lines of ${logFile} ---\n${tail}`);
}

/** Reads the last `lines` lines of a file (reading at most the last 64 KiB); never throws. */
export async function tailFile(file: string, lines = 20, fromOffset = 0): Promise<string> {
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const start = Math.max(fromOffset, size - 65_536, 0);
      const buffer = Buffer.alloc(Math.max(0, size - start));
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } finally {
      await handle.close();
    }
  } catch (error: unknown) {
    return `(log unreadable: ${error instanceof Error ? error.message : String(error)})`;
  }
}
