import { PostureService } from '@fortress/proto/posture/v1/posture_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { announceReady, runService } from '@fortress/kit/lifecycle';
import { startOpsServer } from '@fortress/kit/ops-server';
import { startRpcServer } from '@fortress/kit/rpc-server';
import { bootService } from '@fortress/kit/service';
import { spiffeId } from '@fortress/kit/tls';
import { createDeviceStore } from './adapters/pg/device-store.js';
import { postureConfig } from './config.js';
import { createPostureRpc } from './rpc/posture-service.js';

const base = bootService('posture', postureConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const rpc = await startRpcServer({
    service: base.name,
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_GRPC_PORT,
    tls: base.tls,
    logger,
    telemetry,
    allowedPeers: [spiffeId('edge'), spiffeId('operator')],
    routes: (router) =>
      router.service(PostureService, createPostureRpc({ source: createDeviceStore(pool) })),
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
