import type { KeyObject } from 'node:crypto';
import type pg from 'pg';
import { withChainSnapshot } from '../adapters/pg/chain-reader.js';
import { weighCheckpoints, type ObjectCheckpoint } from '../domain/checkpoint-evidence.js';
import { createChainVerifier, type ChainVerdict } from '../domain/verify-chain.js';

/** What verification reads: the database, the object store copies, the public keys. */
export interface VerifyDeps {
  pool: pg.Pool;
  objectStore: { list(orgId: string, signal?: AbortSignal): Promise<ObjectCheckpoint[]> };
  keys: ReadonlyMap<string, KeyObject>;
}

/**
 * Verifies one org's log: one database snapshot (head, checkpoints, rows), then the object
 * store copies listed after it opened, weighed against each other, then the whole chain
 * recomputed row by row. Used by the Verify RPC and the verify command alike.
 */
export async function verifyOrg(
  deps: VerifyDeps,
  orgId: string,
  signal?: AbortSignal,
): Promise<ChainVerdict> {
  return withChainSnapshot(deps.pool, orgId, async (snap) => {
    const copies = await deps.objectStore.list(orgId, signal);
    const evidence = weighCheckpoints(orgId, snap.checkpoints, copies, deps.keys, snap.snapshotAt);
    const verifier = createChainVerifier(evidence.trusted);
    for await (const page of snap.links()) {
      signal?.throwIfAborted();
      for (const link of page) verifier.push(link);
      if (verifier.failed) break;
    }
    return verifier.finish(snap.head, evidence.failure);
  });
}
