import { readFileSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import { PolicyAdminService, PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { serveBackend } from '@fortress/kit/backend-server';
import { AUDIT_STREAM, connectEventBus } from '@fortress/kit/event-bus';
import { runService } from '@fortress/kit/lifecycle';
import { createPool, pgReady } from '@fortress/kit/pg';
import { bootService } from '@fortress/kit/service';
import { createCedarEngine } from './adapters/cedar/cedar-engine.js';
import { createPolicyStore } from './adapters/pg/policy-store.js';
import { createQuotaStore } from './adapters/redis/quota-store.js';
import { loadPriceBook } from '@fortress/pricing/price-book';
import { policyConfig } from './config.js';
import { createPolicyCache } from './domain/policy-cache.js';
import { createPolicyAdminRpc } from './rpc/policy-admin-service.js';
import { createPolicyRpc, settleReservation } from './rpc/policy-service.js';

const base = bootService('policy', policyConfig);
const { config, logger, telemetry } = base;

/** The subject on which replicas announce a saved policy version. */
const CHANGED = 'fortress.policy.changed';

await runService(logger, async () => {
  const jwk = JSON.parse(readFileSync(config.FORTRESS_DECISION_KEY_FILE, 'utf8')) as JWK;
  if (!jwk.kid || !jwk.d)
    throw new Error('FORTRESS_DECISION_KEY_FILE must hold a private JWK with a "kid"');
  const key = await importJWK(jwk, 'EdDSA');
  if (key instanceof Uint8Array)
    throw new Error('FORTRESS_DECISION_KEY_FILE must hold an Ed25519 key');
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createPolicyStore(pool);
  const engine = createCedarEngine();
  const cache = createPolicyCache({
    source: store,
    engine,
    freshnessMs: config.FORTRESS_POLICY_FRESHNESS_MS,
  });
  const quotas = createQuotaStore({
    url: config.FORTRESS_REDIS_URL,
    leaseMs: config.FORTRESS_QUOTA_LEASE_MS,
    timeoutMs: config.FORTRESS_REDIS_TIMEOUT_MS,
  });
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  bus.subscribe(CHANGED, (data) => {
    const { orgId, version } = JSON.parse(Buffer.from(data).toString('utf8')) as {
      orgId: string;
      version: number;
    };
    cache
      .refresh(orgId, version)
      .catch((err: unknown) => logger.warn({ err, orgId }, 'could not load announced policy'));
  });
  const rpcDeps = {
    cache,
    engine,
    quotas,
    signingKey: { key, keyId: jwk.kid ?? '' },
    tokenTtlSeconds: config.FORTRESS_DECISION_TOKEN_TTL_SECONDS,
    priceBook: loadPriceBook(config.FORTRESS_PRICE_BOOK_FILE),
    notify: (env: EventEnvelope) => {
      bus
        .publish(env, config.FORTRESS_AUDIT_ACK_TIMEOUT_MS)
        .catch((err: unknown) => logger.warn({ err }, 'notification not published'));
    },
    logger,
  };
  const policyRpc = createPolicyRpc(rpcDeps);
  // The backstop of settlement: every outcome carrying a reservation settles it (idempotent;
  // the edge's direct Settle usually came first). A settle that fails is redelivered.
  await bus.consume({
    stream: AUDIT_STREAM,
    durable: 'policy-settlements',
    filterSubject: 'audit.*.outcome',
    // Outcomes published before this consumer existed were settled directly (or released).
    startFrom: 'new',
    handle: async (env) => {
      if (env.payload.case !== 'outcome' || !env.payload.value.reservationId) return;
      const o = env.payload.value;
      await settleReservation(rpcDeps, {
        orgId: env.orgId,
        reservationId: o.reservationId,
        spendMicrousd: o.spendMicrousd,
        tokens: o.tokens,
      });
    },
    reject: () => Promise.resolve(),
  });
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(PolicyService, policyRpc);
      router.service(
        PolicyAdminService,
        createPolicyAdminRpc({
          store,
          cache,
          engine,
          publishChange: (env) => bus.publish(env, config.FORTRESS_AUDIT_ACK_TIMEOUT_MS),
          announce: (orgId, version) =>
            bus.broadcast(CHANGED, Buffer.from(JSON.stringify({ orgId, version }))),
          notify: rpcDeps.notify,
        }),
      );
    },
    readiness: { postgres: () => pgReady(pool), nats: () => bus.ready() },
  });
  return [telemetry.shutdown, () => pool.end(), quotas.close, bus.close, ...served];
});
