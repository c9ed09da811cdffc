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
 * bound is zeroed and dropped, never served. Keys are owned by the cache: callers use them
 * synchronously and must not keep or zero them.
 */
export function createDataKeyCache(options: DataKeyCacheOptions) {
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const drop = (id: string, e: Entry) => {
    e.key.fill(0);
    entries.delete(id);
  };
  return {
    /** A live key for `id`, counting one use; undefined when absent or past its bounds. */
    take(id: string): Buffer | undefined {
      const e = entries.get(id);
      if (!e) return undefined;
      if (now() - e.loadedAt >= options.maxAgeMs || e.uses >= options.maxUses) {
        drop(id, e);
        return undefined;
      }
      e.uses += 1;
      return e.key;
    },

    /** Stores a key (the cache takes ownership) and counts its first use. */
    put(id: string, key: Buffer): Buffer {
      const old = entries.get(id);
      if (old) drop(id, old);
      entries.set(id, { key, loadedAt: now(), uses: 1 });
      return key;
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
