import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { processState } from '../infra/proc-inspect.js';

/** Longer than any real holder needs the lock for: older locks are abandoned. */
const STALE_MS = 20_000;

async function isAbandoned(lock: string): Promise<boolean> {
  const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
  if (!Number.isSafeInteger(owner) || owner <= 0) return true;
  return owner === process.pid ? false : processState(owner) !== 'running';
}

/** Runs `work` holding `<dir>/.lock` (a file naming the holder's pid), so concurrent processes take turns. */
export async function withDirLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = join(dir, '.lock');
  const started = Date.now();
  for (;;) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx', mode: 0o600 });
      break;
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const waited = Date.now() - started;
      // a holder that died (killed mid-run) never releases the lock: take it over
      if ((await isAbandoned(lock)) || waited > STALE_MS) await rm(lock, { force: true });
      else await delay(50);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lock, { force: true });
  }
}
