import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import type { ChainPoint } from '../../domain/chain.js';
import type { SignedCheckpoint } from '../../domain/checkpoint.js';
import { queueExportSpan } from './export-segment-repo.js';

/** Writes a signed checkpoint's database row. */
export async function insertCheckpoint(db: Queryable, cp: SignedCheckpoint): Promise<void> {
  await db.query(
    `INSERT INTO checkpoints (org_id, kind, seq, head_hash, signed_at, key_id, statement, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      cp.orgId,
      cp.kind,
      cp.seq.toString(),
      cp.headHash,
      cp.signedAt,
      cp.keyId,
      cp.statement,
      cp.signature,
    ],
  );
}

/** Signs a chain point at a time the database chose; the caller stores it. */
export type Signer = (orgId: string, point: ChainPoint, at: Date) => SignedCheckpoint;

/** Options of the checkpoint repository. */
export interface CheckpointRepoOptions {
  /** The most records one export segment holds (a longer span is sliced). */
  segmentMax?: number;
}

/** Periodic checkpoints in PostgreSQL, each queueing its span for export. */
export function createCheckpointRepo(pool: pg.Pool, options: CheckpointRepoOptions = {}) {
  const segmentMax = options.segmentMax ?? 10_000;
  return {
    /** Orgs with `every` unsigned rows, or unsigned rows older than `afterMs`. */
    async dueOrgs(every: number, afterMs: number): Promise<string[]> {
      const { rows } = await pool.query<{ org_id: string }>(
        'SELECT org_id FROM orgs_due_for_checkpoint($1, make_interval(secs => $2::float8 / 1000)) AS org_id',
        [every, afterMs],
      );
      return rows.map((r) => r.org_id);
    },

    /**
     * Checkpoints the org's current head unless it is already checkpointed. The head stays
     * locked while the statement is signed and `publish`ed (the object store copy, first) and
     * its row written, so replicas never sign the same position twice. The signing time is the
     * database's clock after the lock: every row the statement covers committed before it,
     * which is what lets the verifier trust copies signed before its snapshot. The span it
     * seals is queued for export in the same transaction, so no sealed span is ever missed.
     */
    async checkpoint(
      orgId: string,
      sign: Signer,
      publish: (cp: SignedCheckpoint) => Promise<void>,
    ): Promise<SignedCheckpoint | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ seq: string; hash: Buffer; checkpoint_seq: string }>(
          'SELECT seq::text, hash, checkpoint_seq::text FROM chain_heads WHERE org_id = $1 FOR UPDATE',
          [orgId],
        );
        const head = rows[0];
        if (!head || BigInt(head.seq) <= BigInt(head.checkpoint_seq)) return undefined;
        const { rows: clock } = await db.query<{ at: Date }>('SELECT clock_timestamp() AS at');
        const cp = sign(
          orgId,
          { seq: BigInt(head.seq), hash: head.hash },
          clock[0]?.at ?? new Date(),
        );
        await publish(cp);
        await insertCheckpoint(db, cp);
        await db.query(
          'UPDATE chain_heads SET checkpoint_seq = $2, checkpoint_at = now() WHERE org_id = $1',
          [orgId, head.seq],
        );
        await queueExportSpan(db, orgId, BigInt(head.checkpoint_seq), BigInt(head.seq), segmentMax);
        return cp;
      });
    },
  };
}

/** The checkpoint repository. */
export type CheckpointRepo = ReturnType<typeof createCheckpointRepo>;
