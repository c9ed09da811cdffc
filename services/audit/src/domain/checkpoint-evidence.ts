import type { KeyObject } from 'node:crypto';
import { openCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { earliest, type VerifyFailure } from './verify-failure.js';

/** A checkpoint as the database holds it: its columns and the signed statement. */
export interface StoredCheckpointRow {
  orgId: string;
  kind: string;
  seq: bigint;
  headHash: Buffer;
  statement: string;
  signature: Buffer;
}

/** A checkpoint as the object store holds it. */
export interface ObjectCheckpoint {
  key: string;
  statement: string;
  signature: Buffer;
}

/** The checkpoints worth trusting, and the first problem found with any of them. */
export interface CheckpointEvidence {
  trusted: SignedCheckpoint[];
  failure: VerifyFailure | undefined;
}

const id = (c: { kind: string; seq: bigint }) => `${c.kind}:${c.seq}`;

/**
 * Weighs the checkpoints of one org from both places. Each must carry a valid signature over
 * its own fields; each database checkpoint must have an identical object store copy (written
 * first, so a row without one was not written by the service). Object store copies are
 * evidence on their own — that is what catches a superuser who rewrote rows and checkpoint
 * rows together — except those signed after `snapshotAt`, which may vouch for rows the
 * database snapshot being verified cannot see yet.
 */
export function weighCheckpoints(
  orgId: string,
  db: StoredCheckpointRow[],
  store: ObjectCheckpoint[],
  keys: ReadonlyMap<string, KeyObject>,
  snapshotAt: Date,
): CheckpointEvidence {
  let failure: VerifyFailure | undefined;
  const fail = (seq: bigint, reason: VerifyFailure['reason'], problem: string) => {
    failure = earliest(failure, { seq: seq < 1n ? 1n : seq, reason, problem });
  };
  const trusted = new Map<string, SignedCheckpoint>();
  const stored = new Map<string, ObjectCheckpoint>();
  for (const o of store) {
    const cp = openCheckpoint(o.statement, o.signature, keys);
    const seqInKey = BigInt(/(\d+)\.json$/.exec(o.key)?.[1] ?? '0');
    if (!cp || cp.orgId !== orgId) {
      fail(
        seqInKey,
        'checkpoint_signature_invalid',
        `object "${o.key}" is not a valid signed checkpoint of ${orgId}`,
      );
      continue;
    }
    stored.set(id(cp), o);
    if (cp.signedAt.getTime() <= snapshotAt.getTime()) trusted.set(id(cp), cp);
  }
  for (const row of db) {
    const cp = openCheckpoint(row.statement, row.signature, keys);
    const agrees =
      cp !== undefined &&
      cp.orgId === row.orgId &&
      cp.orgId === orgId &&
      cp.kind === row.kind &&
      cp.seq === row.seq &&
      cp.headHash.equals(row.headHash);
    if (!cp || !agrees) {
      fail(
        row.seq,
        'checkpoint_signature_invalid',
        `the ${row.kind} checkpoint at ${row.seq} is not validly signed for its columns`,
      );
      continue;
    }
    const copy = stored.get(id(cp));
    if (!copy)
      fail(
        row.seq,
        'checkpoint_not_in_object_store',
        `the ${row.kind} checkpoint at ${row.seq} has no copy in the object store`,
      );
    else if (copy.statement !== row.statement || !copy.signature.equals(row.signature))
      fail(
        row.seq,
        'checkpoint_differs_from_object_store',
        `the ${row.kind} checkpoint at ${row.seq} differs from its object store copy`,
      );
    trusted.set(id(cp), cp);
  }
  return {
    trusted: [...trusted.values()].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0)),
    failure,
  };
}
