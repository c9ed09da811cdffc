import { chainHash, GENESIS_HASH, type ChainPoint } from './chain.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { earliest, type VerifyFailure } from './verify-failure.js';

/** One stored row as the verifier sees it: its position, canonical bytes and stored hash. */
export interface StoredLink {
  seq: bigint;
  canonical: Buffer;
  storedHash: Buffer;
}

/** The outcome of verifying one org's chain. */
export interface ChainVerdict {
  ok: boolean;
  recordsChecked: number;
  /** The first sequence verified: 1, or the one after the retention anchor it started from. */
  firstSequence: bigint;
  /** Signed checkpoints that were compared with the recomputed chain and matched. */
  checkpointsChecked: number;
  failure: VerifyFailure | undefined;
}

/** Verifies rows pushed in stored order (by sequence), then the head; see `createChainVerifier`. */
export interface ChainVerifier {
  push(link: StoredLink): void;
  /** True once a failure was found (later rows cannot change the first bad position). */
  readonly failed: boolean;
  finish(head: ChainPoint | undefined, earlier?: VerifyFailure): ChainVerdict;
}

/**
 * Recomputes one org's chain from its trusted start and compares it with everything that
 * vouches for it. The start is the genesis when the first row is sequence 1, else the signed
 * retention checkpoint just before the first row. Each row must follow the previous sequence
 * exactly and carry SHA-256(previous hash || its canonical bytes); each trusted checkpoint must
 * equal the recomputed hash at its sequence. A rewrite that recomputed every stored hash is
 * caught by the next checkpoint and placed after the last checkpoint that still matched.
 * Checkpoints, the head and the retention anchor also prove rows that should still be there.
 */
export function createChainVerifier(checkpoints: SignedCheckpoint[]): ChainVerifier {
  const at = new Map<bigint, SignedCheckpoint[]>();
  for (const c of checkpoints) at.set(c.seq, [...(at.get(c.seq) ?? []), c]);
  const retention = checkpoints.filter((c) => c.kind === 'retention');
  const lastRetention = retention.at(-1);

  let failure: VerifyFailure | undefined;
  let started = false;
  let expected = 1n;
  let prev = GENESIS_HASH;
  let firstSequence = 1n;
  let confirmed = 0n; // the last sequence a checkpoint (or the anchor) vouched for
  let records = 0;
  let matched = 0;
  const fail = (seq: bigint, reason: VerifyFailure['reason'], problem: string) => {
    failure ??= { seq: seq < 1n ? 1n : seq, reason, problem };
  };

  const start = (first: bigint) => {
    started = true;
    if (first <= 1n) return;
    const anchor = retention.find((c) => c.seq === first - 1n);
    if (!anchor) {
      const before = retention.filter((c) => c.seq < first).at(-1)?.seq ?? 0n;
      fail(
        before + 1n,
        'rows_missing',
        `rows ${before + 1n} to ${first - 1n} are gone without a retention checkpoint`,
      );
      return;
    }
    prev = anchor.headHash;
    expected = first;
    firstSequence = first;
    confirmed = anchor.seq;
    matched += 1;
  };

  return {
    get failed() {
      return failure !== undefined;
    },
    push(link) {
      if (failure) return;
      if (!started) start(link.seq);
      if (failure) return;
      if (link.seq < expected)
        return fail(
          link.seq,
          'sequence_duplicate',
          `sequence ${link.seq} appears again after ${expected - 1n}`,
        );
      if (link.seq > expected)
        return fail(
          expected,
          'sequence_gap',
          `sequence ${expected} is missing (next row is ${link.seq})`,
        );
      const hash = chainHash(prev, link.canonical);
      if (!hash.equals(link.storedHash))
        return fail(link.seq, 'hash_mismatch', `row ${link.seq} does not hash to its stored hash`);
      for (const c of at.get(link.seq) ?? []) {
        if (!c.headHash.equals(hash))
          return fail(
            confirmed + 1n,
            'checkpoint_mismatch',
            `the chain does not match the ${c.kind} checkpoint signed at ${link.seq}: rows ${confirmed + 1n} to ${link.seq} were rewritten`,
          );
        matched += 1;
        confirmed = link.seq;
      }
      prev = hash;
      expected += 1n;
      records += 1;
    },
    finish(head, earlier) {
      if (!started && !failure && lastRetention) {
        // No rows at all: the chain stands at the latest retention anchor.
        prev = lastRetention.headHash;
        expected = lastRetention.seq + 1n;
        firstSequence = expected;
      }
      const last = expected - 1n;
      if (!failure) {
        const beyond = checkpoints.filter((c) => c.seq > last).at(0);
        if (beyond)
          fail(
            last + 1n,
            'rows_missing',
            `rows ${last + 1n} to ${beyond.seq} are gone; a ${beyond.kind} checkpoint vouches for them`,
          );
        else if (!head && last > 0n) fail(last, 'head_mismatch', 'the chain head is missing');
        else if (head && head.seq > last)
          fail(
            last + 1n,
            'rows_missing',
            `rows ${last + 1n} to ${head.seq} are gone; the chain head vouches for them`,
          );
        else if (head && head.seq < last)
          fail(
            head.seq + 1n,
            'rows_beyond_head',
            `rows ${head.seq + 1n} to ${last} are beyond the chain head`,
          );
        else if (head && !head.hash.equals(prev))
          fail(last, 'head_mismatch', `the chain head disagrees with row ${last}`);
      }
      const first = earliest(failure, earlier);
      return {
        ok: first === undefined,
        recordsChecked: records,
        firstSequence,
        checkpointsChecked: matched,
        failure: first,
      };
    },
  };
}
