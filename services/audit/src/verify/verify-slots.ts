/**
 * At most `slots` verifications at once; the rest wait their turn (or their caller's
 * deadline). A verification holds a database connection for as long as it reads an org's
 * whole chain: unbounded, a burst of them would take every connection the writer needs.
 */
export function createVerifySlots(slots: number) {
  let free = slots;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else free += 1;
  };
  return async function withSlot<T>(signal: AbortSignal, run: () => Promise<T>): Promise<T> {
    if (free > 0) free -= 1;
    else
      await new Promise<void>((resolve, reject) => {
        const turn = () => {
          signal.removeEventListener('abort', abort);
          resolve();
        };
        const abort = () => {
          const i = waiting.indexOf(turn);
          if (i >= 0) waiting.splice(i, 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        if (signal.aborted) return abort();
        waiting.push(turn);
        signal.addEventListener('abort', abort, { once: true });
      });
    try {
      return await run();
    } finally {
      release();
    }
  };
}
