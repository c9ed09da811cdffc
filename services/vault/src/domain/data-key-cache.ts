/** An unwrapped data key held in memory, with what bounds its life. */
interface Entry {
  key: Buffer;
  loadedAt: number;
  uses: number;
}

/** Bounds on how long and how often an unwrapped data key may be reused. */
export interface DataKeyCacheOptions {
  maxAgeMs: number;
  maxUses: number;
  now?: () => number;
}

/**
 * A cache of unwrapped data keys, bounded by age and by number of uses. An entry past either
 * bound is zeroed and dropped, never served. The cache owns the buffers put into it and hands
 * out copies: a caller zeroes its copy after use, and a concurrent eviction can never zero a
 * key that another request is about to use.
 */
export function createDataKeyCache(options: DataKeyCacheOptions) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const drop = (id: string, e: Entry) => {
    e.key.fill(0);
    entries.delete(id);
  };
  return {
    /** A copy of the live key for `id`, counting one use; undefined when absent or past its bounds. */
    take(id: string): Buffer | undefined {
      const e = entries.get(id);
      if (!e) return undefined;
      if (now() - e.loadedAt >= options.maxAgeMs || e.uses >= options.maxUses) {
        drop(id, e);
        return undefined;
      }
      e.uses += 1;
      return Buffer.from(e.key);
    },

    /** Stores a key, taking ownership of the buffer (it is zeroed on eviction); counts one use. */
    put(id: string, key: Buffer): void {
      const old = entries.get(id);
      if (old) drop(id, old);
      entries.set(id, { key, loadedAt: now(), uses: 1 });
    },

    /** Zeroes and drops every key (shutdown). */
    clear(): void {
      for (const [id, e] of entries) drop(id, e);
    },

    get size(): number {
      return entries.size;
    },
  };
}

/** The data-key cache. */
export type DataKeyCache = ReturnType<typeof createDataKeyCache>;
