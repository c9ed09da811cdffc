import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort } from './free-port.js';
import { createOwnedServer, optionalLog } from './owned-server.js';

/** Options for {@link startNats}. */
export interface NatsOptions {
  /** Directory for the JetStream store (`<dataDir>/jetstream`), pid file and log; created if missing. */
  readonly dataDir: string;
  /** Client port on 127.0.0.1; a free one is chosen when omitted. */
  readonly port?: number;
  /** HTTP monitoring port on 127.0.0.1; a free one is chosen when omitted. */
  readonly monitorPort?: number;
  readonly onLog?: (line: string) => void;
}

/** A running nats-server with JetStream, owned by this process. */
export interface NatsHandle {
  /** `nats://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** `http://127.0.0.1:MONPORT` */
  readonly monitorUrl: string;
  readonly logFile: string;
  /** Pid of the server, undefined while stopped. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  /** Starts again on the same store dir and ports, so streams and durable consumers survive. */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';

/** True when `/healthz` answers 200 (it answers 503 until JetStream is ready). */
async function healthy(monitorUrl: string): Promise<boolean> {
  const response = await fetch(`${monitorUrl}/healthz`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  if (response.status === 200) return true;
  throw new Error(`/healthz answered ${response.status}`);
}

/** Starts nats-server with JetStream on loopback, ready once `/healthz` answers 200. */
export async function startNats(options: NatsOptions): Promise<NatsHandle> {
  const binary = findBinary('nats-server', 'nats-server', ['/usr/sbin', '/usr/bin']);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (await freePort(HOST));
  const monitorPort = options.monitorPort ?? (await freePort(HOST));
  const pidFile = join(dataDir, 'nats.pid');
  const logFile = join(dataDir, 'nats.log');
  const monitorUrl = `http://${HOST}:${monitorPort}`;
  const server = createOwnedServer({
    name: `nats on ${HOST}:${port}`,
    binary,
    // a fixed server name keeps JetStream's view of itself stable across restarts
    args: [
      '-js',
      '-sd',
      dataDir,
      '-a',
      HOST,
      '-p',
      String(port),
      '-m',
      String(monitorPort),
      '-n',
      'fortress-local',
      '-P',
      pidFile,
      '-l',
      logFile,
    ],
    cwd: dataDir,
    pidFile,
    logFile,
    isReady: () => healthy(monitorUrl),
    isOurs: (info) => info.comm === 'nats-server' && info.cwd === dataDir,
    ...optionalLog(options.onLog),
  });
  await server.start();
  return {
    url: `nats://${HOST}:${port}`,
    port,
    monitorUrl,
    logFile,
    get pid() {
      return server.pid;
    },
    stop: () => server.stop(),
    kill: () => server.kill(),
    restart: () => server.restart(),
  };
}
