import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import type { IdpConfig } from '../../domain/idp-config.js';

/** How the IdPs' JWK sets are fetched and cached. */
export interface KeySetSettings {
  /** A fetch slower than this fails (the request then fails closed with Unavailable). */
  timeoutMs: number;
  /** After a fetch, an unknown "kid" does not trigger another for this long. */
  cooldownMs: number;
  /** A fetched set is used this long before it is fetched again. */
  cacheMaxAgeMs: number;
}

/** Orgs whose key sets are kept; past this the least recently added are dropped. */
const MAX_ORGS = 10_000;

/**
 * One remote JWK set per org, cached with its configuration: a new jwks_uri or any change of
 * the org's configuration (its updated_at) starts a fresh set, so a replaced IdP's keys stop
 * verifying at once. Within a set jose caches the keys, refetches them when stale, and on an
 * unknown key id refetches at most once per cooldown (a flood of forged kids cannot make us
 * hammer the IdP).
 */
export function createKeySets(settings: KeySetSettings) {
  const sets = new Map<string, { uri: string; version: number; keys: JWTVerifyGetKey }>();
  return {
    /** The key resolver of an org's current configuration. */
    forOrg(orgId: string, config: IdpConfig): JWTVerifyGetKey {
      const version = config.updatedAt.getTime();
      const cached = sets.get(orgId);
      if (cached && cached.uri === config.jwksUri && cached.version === version) return cached.keys;
      const keys = createRemoteJWKSet(new URL(config.jwksUri), {
        timeoutDuration: settings.timeoutMs,
        cooldownDuration: settings.cooldownMs,
        cacheMaxAge: settings.cacheMaxAgeMs,
      });
      sets.delete(orgId);
      if (sets.size >= MAX_ORGS) {
        const oldest = sets.keys().next().value;
        if (oldest !== undefined) sets.delete(oldest);
      }
      sets.set(orgId, { uri: config.jwksUri, version, keys });
      return keys;
    },
  };
}

/** The org key sets. */
export type KeySets = ReturnType<typeof createKeySets>;
