import type { Client } from '@connectrpc/connect';
import type { VaultService } from '@fortress/proto/vault/v1/vault_pb';
import type { ArchiveKey } from './archive-writer.js';

/**
 * The vault's archive keys as the edge uses them: the key to write with now, per org, kept for
 * a few minutes (one vault call per org per few minutes, not per request); and a named key to
 * read an object with, never kept.
 */
export function createArchiveKeys(
  vault: Client<typeof VaultService>,
  opts: { timeoutMs: number; cacheMs?: number; now?: () => number },
) {
  const now = opts.now ?? Date.now;
  const cacheMs = opts.cacheMs ?? 5 * 60_000;
  const current = new Map<string, { key: ArchiveKey; until: number }>();
  return {
    async forWriting(orgId: string): Promise<ArchiveKey> {
      const hit = current.get(orgId);
      if (hit && hit.until > now()) return hit.key;
      const r = await vault.archiveKey({ orgId }, { timeoutMs: opts.timeoutMs });
      const key = { id: r.keyId, bytes: r.key };
      current.set(orgId, { key, until: now() + cacheMs });
      return key;
    },
    async forReading(orgId: string, keyId: string): Promise<Uint8Array> {
      return (await vault.archiveKey({ orgId, keyId }, { timeoutMs: opts.timeoutMs })).key;
    },
  };
}

/** The edge's archive keys. */
export type ArchiveKeys = ReturnType<typeof createArchiveKeys>;
