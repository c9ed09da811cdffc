import type pg from 'pg';
import type { Logger } from '@fortress/kit/log';
import { createKeySets, type KeySetSettings } from './adapters/jwks/remote-key-sets.js';
import { createIdentityStore } from './adapters/pg/identity-store.js';
import { createIdpStore } from './adapters/pg/idp-store.js';
import { createMemberStore } from './adapters/pg/member-store.js';
import { createSessionStore } from './adapters/pg/session-store.js';
import { createUserStore } from './adapters/pg/user-store.js';
import type { SessionSigningKey } from './domain/access-token.js';
import { createAdminSessions, type SessionSettings } from './domain/admin-sessions.js';
import { verifyIdpToken } from './domain/idp-token.js';
import type { IdpVerifier } from './domain/idp-user.js';
import { createAdminSessionRpc } from './rpc/admin-session-rpc.js';
import { createIdentityAdminRpc } from './rpc/identity-admin-service.js';
import { createIdentityRpc } from './rpc/identity-service.js';
import { createIdpAdminRpc } from './rpc/idp-admin-rpc.js';
import { createMemberRpc } from './rpc/member-rpc.js';
import { createMemberRelay, type MemberRelay } from './jobs/member-relay.js';
import { createMemberAdmission } from './domain/member-admission.js';

/** How IdP tokens are checked, and how long exchanged Fortress tokens live at most. */
export interface IdpSettings extends KeySetSettings {
  /** Allowed clock skew with an IdP (0–60 s). */
  clockToleranceSeconds: number;
  /** Lifetime cap of an exchanged Fortress token (at most an hour). */
  maxExchangedTokenSeconds: number;
}

/** Production defaults: 1.5 s JWKS timeout, 30 s cooldown, 10 min cache, 30 s skew, 1 h tokens. */
export const DEFAULT_IDP_SETTINGS: IdpSettings = {
  timeoutMs: 1500,
  cooldownMs: 30_000,
  cacheMaxAgeMs: 600_000,
  clockToleranceSeconds: 30,
  maxExchangedTokenSeconds: 3600,
};

/** What identity is built from. */
export interface IdentityParts {
  pool: pg.Pool;
  signingKey: SessionSigningKey;
  settings: SessionSettings;
  /** IdP token checks; DEFAULT_IDP_SETTINGS when omitted. */
  idpSettings?: IdpSettings;
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
  /**
   * Publishes a member change event to JetStream (resolves on the ack). Without it, events
   * wait in the outbox (in-process tests drain it themselves).
   */
  publishEvent?: (envelope: Uint8Array) => Promise<void>;
  /** How often the member relay sweeps every outbox (default 5 s). */
  relayIntervalMs?: number;
}

/**
 * Builds identity from its parts: stores, the admin session domain, the IdP token verifier
 * (one cached JWK set per org) and the RPC handlers of both services. The service's main and in-process tests share this wiring.
 */
export function createIdentityApp(parts: IdentityParts) {
  const { pool, signingKey, settings, logger } = parts;
  const clock = parts.now ? { now: parts.now } : {};
  const store = createIdentityStore(pool);
  const users = createUserStore(pool);
  const sessionStore = createSessionStore(pool);
  const idpStore = createIdpStore(pool);
  const members = createMemberStore(pool);
  const relay: MemberRelay | undefined = parts.publishEvent
    ? createMemberRelay({
        store: members,
        publish: parts.publishEvent,
        intervalMs: parts.relayIntervalMs ?? 5000,
        logger,
      })
    : undefined;
  const idpSettings = parts.idpSettings ?? DEFAULT_IDP_SETTINGS;
  const keySets = createKeySets(idpSettings);
  const idp: IdpVerifier = {
    verify: (orgId, config, token, now) =>
      verifyIdpToken(token, config, keySets.forOrg(orgId, config), {
        now,
        clockToleranceSeconds: idpSettings.clockToleranceSeconds,
      }),
  };
  const sessions = createAdminSessions({
    users,
    sessions: sessionStore,
    signingKey,
    settings,
    logger,
    ...clock,
  });
  const changed = (orgId: string) => relay?.nudge(orgId);
  return {
    rpc: createIdentityRpc({
      members: createMemberAdmission({ members, changed }),
      directory: {
        lookupKey: (hash) => store.lookupKey(hash),
        lookupExchangedToken: (hash) => idpStore.lookupExchangedToken(hash),
      },
      sessions: { signingKey, sessions: sessionStore },
      idp,
      tokens: idpStore,
      maxExchangedTokenSeconds: idpSettings.maxExchangedTokenSeconds,
      logger,
      ...clock,
    }),
    adminRpc: {
      ...createIdentityAdminRpc({ store }),
      ...createAdminSessionRpc({ orgs: store, users, sessions }),
      ...createIdpAdminRpc({ orgs: store, idp: idpStore, logger }),
      ...createMemberRpc({
        orgs: store,
        members,
        changed,
        now: parts.now ?? (() => new Date()),
      }),
    },
    members,
    relay,
  };
}

/** A built identity service. */
export type IdentityApp = ReturnType<typeof createIdentityApp>;
