import type { CheckpointRepo } from '../adapters/pg/checkpoint-repo.js';
import { signCheckpoint, type SignedCheckpoint, type SigningKey } from '../domain/checkpoint.js';
import type { Logger } from '@fortress/kit/log';

/** What the checkpointer needs. */
export interface CheckpointerOptions {
  repo: CheckpointRepo;
  key: SigningKey;
  /** Writes the object store copy; must succeed before the database row is written. */
  publish: (cp: SignedCheckpoint) => Promise<void>;
  /** Checkpoint an org once this many rows are unsigned… */
  every: number;
  /** …or once its oldest unsigned row is this old. */
  intervalMs: number;
  logger: Logger;
  onCheckpoint?: (cp: SignedCheckpoint) => void;
}

/**
 * Signs checkpoints every N events or T milliseconds per org. `nudge(org, unsigned)` after a
 * commit covers N without a database scan; a timer asks the database which orgs are due,
 * which covers T and whatever a restarted or other replica left unsigned. At most one
 * checkpoint per org runs at a time; a failure (object store down) is retried on the next tick.
 */
export function createCheckpointer(o: CheckpointerOptions) {
  const running = new Map<string, Promise<void>>();
  const sign = (orgId: string, point: { seq: bigint; hash: Buffer }, at: Date) =>
    signCheckpoint(o.key, 'periodic', orgId, point, at);

  const run = (orgId: string): Promise<void> => {
    const current = running.get(orgId);
    if (current) return current;
    const p = o.repo
      .checkpoint(orgId, sign, o.publish)
      .then((cp) => {
        if (cp) o.onCheckpoint?.(cp);
      })
      .catch((err: unknown) => o.logger.warn({ err, orgId }, 'checkpoint failed; will retry'))
      .finally(() => running.delete(orgId));
    running.set(orgId, p);
    return p;
  };

  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  const tick = async () => {
    try {
      const due = await o.repo.dueOrgs(o.every, o.intervalMs);
      await Promise.all(due.map(run));
    } catch (err) {
      o.logger.warn({ err }, 'could not list orgs due for a checkpoint');
    }
  };

  const tickOnce = () => (ticking ??= tick().finally(() => (ticking = undefined)));

  return {
    /** Tells the checkpointer an org's head moved; checkpoints when N rows are unsigned. */
    nudge(orgId: string, unsigned: bigint): void {
      if (unsigned >= BigInt(o.every)) void run(orgId);
    },
    /** Checkpoints whatever is due now (also what the timer does). */
    tick: tickOnce,
    /** Starts the timer: a tick every quarter of the interval, so T is kept within 25%. */
    start(): void {
      timer = setInterval(() => void tickOnce(), Math.max(250, Math.floor(o.intervalMs / 4)));
      timer.unref();
    },
    /** Stops the timer and waits for checkpoints in flight. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      await ticking;
      await Promise.all(running.values());
    },
  };
}

/** The checkpointer. */
export type Checkpointer = ReturnType<typeof createCheckpointer>;
