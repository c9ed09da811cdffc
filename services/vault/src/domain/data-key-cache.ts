/** An unwrapped data key held in memory, with what bounds its life. */
interface Entry {
  key: Buffer;
  loadedAt: number;
  uses: number;
  bounds: CacheBounds;
}

/** How long and how often one unwrapped data key may be reused. */
export interface CacheBounds {
  maxAgeMs: number;
  maxUses: number;
}

/** Default bounds on reusing an unwrapped data key, and the clock. */
export interface DataKeyCacheOptions extends CacheBounds {
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
      if (now() - e.loadedAt >= e.bounds.maxAgeMs || e.uses >= e.bounds.maxUses) {
        drop(id, e);
        return undefined;
      }
      e.uses += 1;
      return Buffer.from(e.key);
    },

    /**
     * Stores a key, taking ownership of the buffer (it is zeroed on eviction), counting `uses`
     * uses (one: the caller's). `bounds` override the defaults for this entry (e.g. the shorter
     * age of a Bank org's key).
     */
    put(id: string, key: Buffer, bounds: CacheBounds = options, uses = 1): void {
      const old = entries.get(id);
      if (old) drop(id, old);
      entries.set(id, { key, loadedAt: now(), uses, bounds });
    },

    /** Zeroes and drops the key of one id, if cached. */
    drop(id: string): void {
      const e = entries.get(id);
      if (e) drop(id, e);
    },

    /** Zeroes and drops every key whose id starts with `prefix` (an org's keys). */
    dropPrefix(prefix: string): void {
      for (const [id, e] of entries) if (id.startsWith(prefix)) drop(id, e);
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
