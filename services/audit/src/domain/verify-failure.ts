/** Stable codes of what verification found wrong (VerifyResponse.reason). */
export type VerifyReason =
  /** A row's stored hash is not SHA-256(previous || its canonical bytes): it was edited. */
  | 'hash_mismatch'
  /** A sequence is missing between two rows: rows were deleted. */
  | 'sequence_gap'
  /** A sequence appears twice, or goes backwards: rows were inserted or reordered. */
  | 'sequence_duplicate'
  /** Rows a checkpoint, the chain head or the retention anchor vouches for are gone. */
  | 'rows_missing'
  /** Rows beyond the chain head: rows were appended outside the writer. */
  | 'rows_beyond_head'
  /** The chain head disagrees with the last row. */
  | 'head_mismatch'
  /** The recomputed chain disagrees with a signed checkpoint: rows up to it were rewritten. */
  | 'checkpoint_mismatch'
  /** A checkpoint's signature or content does not hold up. */
  | 'checkpoint_signature_invalid'
  /** A checkpoint of the database has no copy in the object store. */
  | 'checkpoint_not_in_object_store'
  /** A checkpoint of the database differs from its object store copy. */
  | 'checkpoint_differs_from_object_store';

/** The first thing found wrong: where, why, and in words. */
export interface VerifyFailure {
  seq: bigint;
  reason: VerifyReason;
  problem: string;
}

/** The earlier of two failures (the first bad position wins). */
export function earliest(
  a: VerifyFailure | undefined,
  b: VerifyFailure | undefined,
): VerifyFailure | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.seq < a.seq ? b : a;
}
