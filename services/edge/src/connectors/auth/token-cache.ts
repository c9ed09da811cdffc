/**
 * A cache of short-lived access tokens the executor mints itself (GitHub App installation
 * tokens, Salesforce password-grant sessions). The gateway creates one and passes it to every
 * call; without one, each call mints afresh. Keys are digests, never the credential itself.
 */
import { createHash } from 'node:crypto';

/** A minted token and when to stop using it (ms epoch). */
export interface CachedToken {
  token: string;
  /** Stop using the token at this time: a margin before the vendor's own expiry. */
  useUntil: number;
}

/** Where minted tokens are kept between calls. */
export interface TokenCache {
  get(key: string, now: number): CachedToken | undefined;
  set(key: string, value: CachedToken): void;
  delete(key: string): void;
}

/** Creates an in-memory token cache holding at most `maxEntries` tokens (oldest dropped). */
export function createTokenCache(options: { maxEntries?: number } = {}): TokenCache {
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, CachedToken>();
  return {
    get(key, now) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.useUntil <= now) {
        entries.delete(key);
        return undefined;
      }
      return entry;
    },
    set(key, value) {
      entries.delete(key);
      entries.set(key, value);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest === undefined) break;
        entries.delete(oldest);
      }
    },
    delete(key) {
      entries.delete(key);
    },
  };
}

/** A cache key binding an instance, its base URL and a digest of the credential's material. */
export function tokenCacheKey(
  instanceId: string,
  baseUrl: string,
  parts: readonly Uint8Array[],
): string {
  const hash = createHash('sha256').update(instanceId).update('\0').update(baseUrl);
  for (const part of parts) hash.update('\0').update(part);
  return hash.digest('base64url');
}
