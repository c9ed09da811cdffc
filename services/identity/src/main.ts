import { fromBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { connectEventBus } from '@fortress/kit/event-bus';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { loadSessionSigningKey } from './adapters/keys/session-signing-key.js';
import { identityConfig } from './config.js';
import { createIdentityApp } from './wiring.js';

const base = bootService('identity', identityConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const signingKey = await loadSessionSigningKey(config.FORTRESS_SESSION_SIGNING_KEY_FILE);
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  const app = createIdentityApp({
    pool,
    signingKey,
    logger,
    publishEvent: (bytes) =>
      bus.publish(fromBinary(EventEnvelopeSchema, bytes), config.FORTRESS_EVENT_ACK_TIMEOUT_MS),
    settings: {
      accessTtlSeconds: config.FORTRESS_SESSION_ACCESS_TTL_SECONDS,
      sessionMaxAgeSeconds: config.FORTRESS_SESSION_MAX_AGE_SECONDS,
      maxFailedLogins: config.FORTRESS_LOGIN_MAX_FAILURES,
      lockSeconds: config.FORTRESS_LOGIN_LOCK_SECONDS,
    },
    idpSettings: {
      timeoutMs: config.FORTRESS_IDP_JWKS_TIMEOUT_MS,
      cooldownMs: config.FORTRESS_IDP_JWKS_COOLDOWN_SECONDS * 1000,
      cacheMaxAgeMs: config.FORTRESS_IDP_JWKS_MAX_AGE_SECONDS * 1000,
      clockToleranceSeconds: config.FORTRESS_IDP_CLOCK_TOLERANCE_SECONDS,
      maxExchangedTokenSeconds: config.FORTRESS_EXCHANGED_TOKEN_MAX_SECONDS,
    },
  });
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(IdentityService, app.rpc);
      router.service(IdentityAdminService, app.adminRpc);
    },
    readiness: { postgres: () => pgReady(pool), nats: () => bus.ready() },
  });
  app.relay?.start();
  return [
    telemetry.shutdown,
    () => pool.end(),
    () => bus.close(),
    async () => app.relay?.stop(),
    ...served,
  ];
});
