import { PostureService } from '@fortress/proto/posture/v1/posture_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createDeviceStore } from './adapters/pg/device-store.js';
import { postureConfig } from './config.js';
import { createPostureRpc } from './rpc/posture-service.js';

const base = bootService('posture', postureConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const served = await serveBackend(base, {
    routes: (router) =>
      router.service(PostureService, createPostureRpc({ source: createDeviceStore(pool) })),
    readiness: { postgres: () => pgReady(pool) },
  });
  return [telemetry.shutdown, () => pool.end(), ...served];
});
