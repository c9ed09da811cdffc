import type { CacheBreakpoint } from './token-estimate.js';

/** How a request's prompt met the cache: tokens read, and tokens written per TTL. */
export interface CacheUsage {
  readonly read: number;
  readonly creation5m: number;
  readonly creation1h: number;
}

/** The fake's prompt cache: remembers prefixes per scope (key and model) until their TTL. */
export interface PromptCache {
  account(scope: string, breakpoints: readonly CacheBreakpoint[], now: number): CacheUsage;
  clear(): void;
}

const TTL_MS = { '5m': 5 * 60_000, '1h': 60 * 60_000 } as const;
const NO_CACHE: CacheUsage = { read: 0, creation5m: 0, creation1h: 0 };

interface Entry {
  expiresAt: number;
  readonly ttlMs: number;
}

/**
 * Creates a prompt cache with the real API's accounting. Entries are written at breakpoints.
 * A request reads the longest cached prefix found at a breakpoint or at one of the boundaries
 * just before it (the API's lookback), and writes everything after that up to its last
 * breakpoint, each stretch billed at the TTL of the breakpoint that closes it. A hit
 * refreshes the entry. Unlike the real API there is no minimum cacheable length, so short
 * test prompts still show cache numbers.
 */
export function createPromptCache(maxEntries = 10_000): PromptCache {
  const entries = new Map<string, Entry>();

  function remember(key: string, entry: Entry): void {
    // Re-inserting moves the key to the end, so the Map's order is least-recently-used first.
    entries.delete(key);
    entries.set(key, entry);
    if (entries.size > maxEntries) {
      const oldest = entries.keys().next();
      if (oldest.done !== true) entries.delete(oldest.value);
    }
  }

  return {
    account(scope, breakpoints, now) {
      if (breakpoints.length === 0) return NO_CACHE;
      let read = 0;
      let hitKey: string | undefined;
      for (const bp of breakpoints) {
        for (const boundary of [bp, ...bp.lookback]) {
          if (boundary.tokens <= read) continue;
          const key = `${scope}\u0000${boundary.fingerprint}`;
          const entry = entries.get(key);
          if (entry !== undefined && entry.expiresAt > now) {
            read = boundary.tokens;
            hitKey = key;
          }
        }
      }
      if (hitKey !== undefined) {
        const hit = entries.get(hitKey);
        if (hit !== undefined) remember(hitKey, { expiresAt: now + hit.ttlMs, ttlMs: hit.ttlMs });
      }

      let creation5m = 0;
      let creation1h = 0;
      let previous = read;
      for (const bp of breakpoints) {
        if (bp.tokens > previous) {
          if (bp.ttl === '1h') creation1h += bp.tokens - previous;
          else creation5m += bp.tokens - previous;
          previous = bp.tokens;
        }
        const ttlMs = TTL_MS[bp.ttl];
        remember(`${scope}\u0000${bp.fingerprint}`, { expiresAt: now + ttlMs, ttlMs });
      }
      return { read, creation5m, creation1h };
    },
    clear() {
      entries.clear();
    },
  };
}
