import type { Logger } from '@fortress/kit/log';
import type { RetentionRepo } from '../adapters/pg/retention-repo.js';
import { signCheckpoint, type SignedCheckpoint, type SigningKey } from '../domain/checkpoint.js';
import { expiredPrefixEnd } from '../domain/retention.js';

/** What the retention job needs. */
export interface RetentionJobOptions {
  repo: RetentionRepo;
  key: SigningKey;
  /** Writes the object store copy of the retention checkpoint, before anything is deleted. */
  publish: (cp: SignedCheckpoint) => Promise<void>;
  /** Rows deleted per transaction at most (bounded transactions, bounded locks). */
  chunk: number;
  logger: Logger;
}

/** What one run removed, per org. */
export type RetentionReport = Record<string, number>;

/**
 * Deletes rows past each org's retention, oldest first, a chunk at a time. For each chunk it
 * signs a retention checkpoint over the last row it will delete (its sequence and hash: the
 * anchor from which what remains verifies), writes the object store copy, then has the
 * database record the checkpoint and delete the prefix in one transaction
 * (audit.apply_retention, which re-checks the anchor and the cutoff itself).
 */
export function createRetentionJob(o: RetentionJobOptions) {
  const runOrg = async (orgId: string): Promise<number> => {
    let deleted = 0;
    for (;;) {
      const window = await o.repo.oldest(orgId, o.chunk);
      const end = expiredPrefixEnd(window.rows, window.cutoff);
      if (!end) return deleted;
      const cp = signCheckpoint(o.key, 'retention', orgId, end, window.readAt);
      await o.publish(cp);
      deleted += await o.repo.apply(cp);
      if (end.seq !== window.rows.at(-1)?.seq) return deleted;
    }
  };

  return {
    /** One pass over every org; failures are logged per org and retried next pass. */
    async run(): Promise<RetentionReport> {
      const report: RetentionReport = {};
      for (const orgId of await o.repo.orgs()) {
        try {
          const n = await runOrg(orgId);
          if (n > 0) report[orgId] = n;
        } catch (err) {
          o.logger.warn({ err, orgId }, 'retention failed for this org; will retry');
        }
      }
      return report;
    },
    /** One org only (tests, operators). */
    runOrg,
  };
}

/** The retention job. */
export type RetentionJob = ReturnType<typeof createRetentionJob>;
