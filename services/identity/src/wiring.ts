import type pg from 'pg';
import type { Logger } from '@fortress/kit/log';
import { createIdentityStore } from './adapters/pg/identity-store.js';
import { createSessionStore } from './adapters/pg/session-store.js';
import { createUserStore } from './adapters/pg/user-store.js';
import type { SessionSigningKey } from './domain/access-token.js';
import { createAdminSessions, type SessionSettings } from './domain/admin-sessions.js';
import { createAdminSessionRpc } from './rpc/admin-session-rpc.js';
import { createIdentityAdminRpc } from './rpc/identity-admin-service.js';
import { createIdentityRpc } from './rpc/identity-service.js';

/** What identity is built from. */
export interface IdentityParts {
  pool: pg.Pool;
  signingKey: SessionSigningKey;
  settings: SessionSettings;
  logger: Logger;
  /** The clock (tests move it). */
  now?: () => Date;
}

/**
 * Builds identity from its parts: stores, the admin session domain and the RPC handlers of
 * both services. The service's main and in-process tests share this wiring.
 */
export function createIdentityApp(parts: IdentityParts) {
  const { pool, signingKey, settings, logger } = parts;
  const clock = parts.now ? { now: parts.now } : {};
  const store = createIdentityStore(pool);
  const users = createUserStore(pool);
  const sessionStore = createSessionStore(pool);
  const sessions = createAdminSessions({
    users,
    sessions: sessionStore,
    signingKey,
    settings,
    logger,
    ...clock,
  });
  return {
    rpc: createIdentityRpc({
      directory: store,
      sessions: { signingKey, sessions: sessionStore },
      ...clock,
    }),
    adminRpc: {
      ...createIdentityAdminRpc({ store }),
      ...createAdminSessionRpc({ orgs: store, users, sessions }),
    },
  };
}

/** A built identity service. */
export type IdentityApp = ReturnType<typeof createIdentityApp>;
