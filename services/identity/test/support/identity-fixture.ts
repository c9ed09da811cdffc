import { Writable } from 'node:stream';
import {
  createClient,
  createRouterTransport,
  type Client,
  type Interceptor,
} from '@connectrpc/connect';
import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { toConnectError } from '@fortress/kit/errors';
import { createLogger } from '@fortress/kit/log';
import { peerIdKey } from '@fortress/kit/rpc-context';
import { spiffeId } from '@fortress/kit/tls';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import type { SessionSigningKey } from '../../src/domain/access-token.js';
import type { SessionSettings } from '../../src/domain/admin-sessions.js';
import { createIdentityApp, type IdentityApp, type IdpSettings } from '../../src/wiring.js';
import { testSigningKey } from './keys.js';

/** Production settings: 15-minute access tokens, 12-hour sessions, 10 failures lock 15 minutes. */
export const TEST_SETTINGS: SessionSettings = {
  accessTtlSeconds: 15 * 60,
  sessionMaxAgeSeconds: 12 * 3600,
  maxFailedLogins: 10,
  lockSeconds: 15 * 60,
};

/** Identity in process on a real PostgreSQL, with a movable clock and a captured log. */
export interface IdentityFixture {
  pg: PgFixture;
  signingKey: SessionSigningKey;
  identity: Client<typeof IdentityService>;
  admin: Client<typeof IdentityAdminService>;
  /** The service's parts (e.g. the member store, whose outbox these tests drain themselves). */
  app: IdentityApp;
  /** Every log line written so far. */
  logLines: string[];
  now(): Date;
  /** Moves the clock forward. */
  advance(ms: number): void;
  stop(): Promise<void>;
}

/**
 * Starts PostgreSQL, provisions identity and serves both services over an in-memory transport.
 * Tests of IdP tokens start the clock at the real time (the IdP signs with it) and may tune
 * the IdP settings (e.g. a short JWKS timeout).
 */
export async function startIdentityFixture(
  start = new Date('2026-11-23T10:00:00Z'),
  idpSettings?: IdpSettings,
) {
  const pg = await startPgFixture(['identity']);
  const logLines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      logLines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  let clock = start.getTime();
  const now = () => new Date(clock);
  const signingKey = testSigningKey();
  const app = createIdentityApp({
    pool: pg.runtimePool('identity'),
    signingKey,
    settings: TEST_SETTINGS,
    ...(idpSettings ? { idpSettings } : {}),
    logger: createLogger({ service: 'identity', level: 'debug', destination }),
    now,
  });
  // The errors boundary the real server's interceptors provide, as the operator's peer.
  const boundary: Interceptor = (next) => async (req) => {
    req.contextValues.set(peerIdKey, spiffeId('operator'));
    try {
      return await next(req);
    } catch (err) {
      throw toConnectError(err);
    }
  };
  const transport = createRouterTransport(
    (router) => {
      router.service(IdentityService, app.rpc);
      router.service(IdentityAdminService, app.adminRpc);
    },
    { router: { interceptors: [boundary] } },
  );
  return {
    pg,
    signingKey,
    identity: createClient(IdentityService, transport),
    admin: createClient(IdentityAdminService, transport),
    app,
    logLines,
    now,
    advance: (ms: number) => {
      clock += ms;
    },
    stop: () => pg.stop(),
  } satisfies IdentityFixture;
}
