import type { KeyOpener } from '../domain/credential-crypto.js';
import { changeEvent, SYSTEM_ACTOR } from '../domain/events.js';
import type { OrgKeys } from '../domain/org-keys.js';
import type { KeyStore, RewrapStore } from '../domain/ports.js';
import type { EpochRow } from '../domain/records.js';
import { rewrapRow } from '../domain/rewrap.js';
import type { SessionRegistry } from '../domain/sessions.js';

/** What one run of the re-wrap job for an org achieved. */
export interface RewrapRun {
  /** idle: no job; done: finished; more: budget spent or rows held elsewhere; awaiting_session:
   * only Zero Trust rows are left and no live session holds their key. */
  state: 'idle' | 'done' | 'more' | 'awaiting_session';
  rewrapped: number;
}

const zero = (openers: Map<number, KeyOpener>) => {
  for (const o of openers.values()) (o.scheme === 'aes' ? o.key : o.privateKey).fill(0);
  openers.clear();
};

/**
 * The background re-wrap of an org's credentials onto its newest data key, in batches that
 * each commit on their own. It resumes after a crash by construction: what is left to do is
 * exactly the credentials whose key_epoch is not the job's. Several replicas may run it at once
 * (rows are locked with SKIP LOCKED). Zero Trust keys can only be opened with a private key a
 * live session holds; without one the job waits.
 */
export function createRewrapJob(deps: {
  keys: KeyStore;
  store: RewrapStore;
  orgKeys: OrgKeys;
  sessions: SessionRegistry;
  batchSize: number;
  now?: () => number;
}) {
  const { store, orgKeys, sessions } = deps;
  const now = deps.now ?? Date.now;

  /** Openers for the epochs rows are waiting on; false when some need a session key. */
  const openersFor = async (
    orgId: string,
    epochs: Map<number, EpochRow>,
    pending: Iterable<number>,
    openers: Map<number, KeyOpener>,
    signal?: AbortSignal,
  ): Promise<boolean> => {
    let complete = true;
    for (const n of pending) {
      const e = epochs.get(n);
      if (!e) throw new Error(`credentials on epoch ${n}, which is not stored`);
      if (e.scheme === 'aes') {
        openers.set(n, { scheme: 'aes', key: await orgKeys.aesKey(e, signal) });
        continue;
      }
      const privateKey = sessions.anyKey(orgId, n);
      if (privateKey && e.public_key)
        openers.set(n, { scheme: 'p256', privateKey, publicKey: e.public_key });
      else complete = false;
    }
    return complete;
  };

  return {
    /** Runs the org's active job for up to `budgetMs`. */
    async run(orgId: string, budgetMs: number, signal?: AbortSignal): Promise<RewrapRun> {
      const job = await store.activeJob(orgId);
      if (!job) return { state: 'idle', rewrapped: 0 };
      const epochs = new Map((await deps.keys.epochs(orgId)).map((e) => [e.epoch, e]));
      const target = epochs.get(job.to_epoch);
      if (!target) throw new Error(`re-wrap job ${job.id} has no epoch ${job.to_epoch}`);
      const deadline = now() + budgetMs;
      let rewrapped = 0;
      let waiting = false;
      while (now() < deadline) {
        const pending = await store.byEpoch(orgId, job.to_epoch);
        if (pending.size === 0) break;
        const openers = new Map<number, KeyOpener>();
        let aesKey: Buffer | undefined;
        try {
          waiting = !(await openersFor(orgId, epochs, pending.keys(), openers, signal));
          if (openers.size === 0) break;
          if (target.scheme === 'aes') aesKey = await orgKeys.aesKey(target, signal);
          const t = { epoch: target, aesKey };
          const n = await store.rewrapBatch(job, [...openers.keys()], deps.batchSize, (rows) =>
            rows.map((r) => rewrapRow(orgId, r, openers, t)),
          );
          rewrapped += n;
          if (n === 0) break; // the rest is locked by another replica's batch
        } finally {
          zero(openers);
          aesKey?.fill(0);
        }
      }
      if ((await store.remaining(orgId, job.to_epoch)) === 0) {
        const retired = await store.finish(job, [
          changeEvent({
            orgId,
            actorId: SYSTEM_ACTOR,
            entityType: 'data_key',
            entityId: orgId,
            operation: 'update',
            after: { epoch: job.to_epoch, job_id: job.id, state: 'rewrapped' },
          }),
        ]);
        if (!retired) return { state: 'more', rewrapped };
        for (const e of retired) {
          orgKeys.forgetEpoch(orgId, e);
          sessions.forgetEpoch(orgId, e);
        }
        return { state: 'done', rewrapped };
      }
      if (waiting && rewrapped === 0) {
        await store.setState(job, 'awaiting_session');
        return { state: 'awaiting_session', rewrapped };
      }
      return { state: 'more', rewrapped };
    },
  };
}

/** The re-wrap job. */
export type RewrapJob = ReturnType<typeof createRewrapJob>;
