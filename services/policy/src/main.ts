import { readFileSync } from 'node:fs';
import { importJWK, type JWK } from 'jose';
import { PolicyAdminService, PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createCedarEngine } from './adapters/cedar/cedar-engine.js';
import { createPolicyStore } from './adapters/pg/policy-store.js';
import { policyConfig } from './config.js';
import { createPolicyCache } from './domain/policy-cache.js';
import { createPolicyAdminRpc } from './rpc/policy-admin-service.js';
import { createPolicyRpc } from './rpc/policy-service.js';

const base = bootService('policy', policyConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const jwk = JSON.parse(readFileSync(config.FORTRESS_DECISION_KEY_FILE, 'utf8')) as JWK;
  if (!jwk.kid || !jwk.d)
    throw new Error('FORTRESS_DECISION_KEY_FILE must hold a private JWK with a "kid"');
  const key = await importJWK(jwk, 'EdDSA');
  if (key instanceof Uint8Array)
    throw new Error('FORTRESS_DECISION_KEY_FILE must hold an Ed25519 key');
  const signingKey = { key, keyId: jwk.kid };
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createPolicyStore(pool);
  const engine = createCedarEngine();
  const cache = createPolicyCache({
    source: store,
    engine,
    freshnessMs: config.FORTRESS_POLICY_FRESHNESS_MS,
  });
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(
        PolicyService,
        createPolicyRpc({
          cache,
          authorize: (orgId, request) => engine.authorize(orgId, request),
          signingKey,
          tokenTtlSeconds: config.FORTRESS_DECISION_TOKEN_TTL_SECONDS,
        }),
      );
      router.service(
        PolicyAdminService,
        createPolicyAdminRpc({ store, cache, validate: (p) => engine.validate(p) }),
      );
    },
    readiness: { postgres: () => pgReady(pool) },
  });
  return [telemetry.shutdown, () => pool.end(), ...served];
});
