import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { announceReady, runService } from '@fortress/kit/lifecycle';
import { startOpsServer } from '@fortress/kit/ops-server';
import { startRpcServer } from '@fortress/kit/rpc-server';
import { bootService } from '@fortress/kit/service';
import { spiffeId } from '@fortress/kit/tls';
import { createIdentityStore } from './adapters/pg/identity-store.js';
import { identityConfig } from './config.js';
import { createIdentityAdminRpc } from './rpc/identity-admin-service.js';
import { createIdentityRpc } from './rpc/identity-service.js';

const base = bootService('identity', identityConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createIdentityStore(pool);
  const rpc = await startRpcServer({
    service: base.name,
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_GRPC_PORT,
    tls: base.tls,
    logger,
    telemetry,
    allowedPeers: [spiffeId('edge'), spiffeId('operator')],
    routes: (router) => {
      router.service(IdentityService, createIdentityRpc({ directory: store }));
      router.service(IdentityAdminService, createIdentityAdminRpc({ store }));
    },
  });
  const ops = await startOpsServer({
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_OPS_PORT,
    telemetry,
    readiness: { postgres: () => pgReady(pool) },
  });
  announceReady(base.name, { grpcPort: rpc.port, opsPort: ops.port });
  return [telemetry.shutdown, () => pool.end(), rpc.close, ops.close];
});
