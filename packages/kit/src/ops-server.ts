import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Telemetry } from './telemetry.js';

/** A readiness probe: resolves true when the service can do its job. */
export type ReadinessCheck = () => Promise<boolean>;

/** Options for the loopback operations server. */
export interface OpsServerOptions {
  host: string;
  port: number;
  telemetry: Telemetry;
  /** Each dependency that must answer for the service to be ready, by name. */
  readiness: Record<string, ReadinessCheck>;
}

/** A running operations server. */
export interface OpsServer {
  port: number;
  close: () => Promise<void>;
}

/**
 * Serves `/healthz` (the process is alive), `/readyz` (every dependency answers; 503 with
 * the failing names otherwise) and `/metrics` (Prometheus) on a loopback port.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    } else if (path === '/readyz') {
      void readiness(options.readiness).then((failing) => {
        const body = JSON.stringify({ status: failing.length ? 'unavailable' : 'ready', failing });
        res.writeHead(failing.length ? 503 : 200, { 'content-type': 'application/json' }).end(body);
      });
    } else if (path === '/metrics') {
      options.telemetry.metricsHandler(req, res);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Names of the readiness checks that fail or throw. */
async function readiness(checks: Record<string, ReadinessCheck>): Promise<string[]> {
  const results = await Promise.all(
    Object.entries(checks).map(async ([name, check]) =>
      (await check().catch(() => false)) ? '' : name,
    ),
  );
  return results.filter(Boolean);
}
