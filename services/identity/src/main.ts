import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createIdentityStore } from './adapters/pg/identity-store.js';
import { identityConfig } from './config.js';
import { createIdentityAdminRpc } from './rpc/identity-admin-service.js';
import { createIdentityRpc } from './rpc/identity-service.js';

const base = bootService('identity', identityConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createIdentityStore(pool);
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(IdentityService, createIdentityRpc({ directory: store }));
      router.service(IdentityAdminService, createIdentityAdminRpc({ store }));
    },
    readiness: { postgres: () => pgReady(pool) },
  });
  return [telemetry.shutdown, () => pool.end(), ...served];
});
