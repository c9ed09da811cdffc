import type { ConnectRouter } from '@connectrpc/connect';
import { announceReady, type Closer } from './lifecycle.js';
import { startOpsServer, type ReadinessCheck } from './ops-server.js';
import { startRpcServer } from './rpc-server.js';
import type { ServiceBase } from './service.js';
import { spiffeId } from './tls.js';

/** Where a backend service listens. */
interface BackendConfig {
  FORTRESS_HOST: string;
  FORTRESS_GRPC_PORT: number;
  FORTRESS_OPS_PORT: number;
}

/** What a backend service serves. */
export interface BackendOptions {
  routes: (router: ConnectRouter) => void;
  readiness: Record<string, ReadinessCheck>;
  /** Callers allowed at all; the edge and the operator by default. */
  allowedPeers?: readonly string[];
}

/**
 * Serves a backend service: its gRPC services over mTLS, the loopback ops server (health,
 * readiness, metrics), then announces readiness. Returns what to close, in start order.
 */
export async function serveBackend(
  base: ServiceBase<BackendConfig>,
  options: BackendOptions,
): Promise<Closer[]> {
  const { config } = base;
  const rpc = await startRpcServer({
    service: base.name,
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_GRPC_PORT,
    tls: base.tls,
    logger: base.logger,
    telemetry: base.telemetry,
    allowedPeers: options.allowedPeers ?? [spiffeId('edge'), spiffeId('operator')],
    routes: options.routes,
  });
  const ops = await startOpsServer({
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_OPS_PORT,
    telemetry: base.telemetry,
    readiness: options.readiness,
  });
  announceReady(base.name, { grpcPort: rpc.port, opsPort: ops.port });
  return [rpc.close, ops.close];
}
