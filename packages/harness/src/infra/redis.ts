import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { findBinary } from './binaries.js';
import { freePort } from './free-port.js';
import { createOwnedServer, optionalLog } from './owned-server.js';

/** Options for {@link startRedis}. */
export interface RedisOptions {
  /** Directory for the pid file and the log; created if missing. */
  readonly dataDir: string;
  /** TCP port on 127.0.0.1; a free one is chosen when omitted. */
  readonly port?: number;
  readonly onLog?: (line: string) => void;
}

/** A running redis-server owned by this process. */
export interface RedisHandle {
  readonly url: string;
  readonly port: number;
  readonly logFile: string;
  /** Pid of the server, undefined while stopped. */
  readonly pid: number | undefined;
  stop(): Promise<void>;
  /** SIGKILL, for fault tests. */
  kill(): Promise<void>;
  /** Starts again on the same port (stopping first if running). */
  restart(): Promise<void>;
}

const HOST = '127.0.0.1';

/** Sends a raw RESP `PING` and resolves true on `+PONG` (false on `-LOADING` and the like). */
export function pingRedis(port: number, host = HOST, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolvePing, reject) => {
    const socket = connect({ port, host });
    let reply = '';
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(new Error(`no PING reply within ${timeoutMs} ms`)),
    );
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.end();
      resolvePing(reply.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** Starts redis-server on loopback without persistence (`--save ''`, no AOF) and `noeviction`, ready once PING answers. */
export async function startRedis(options: RedisOptions): Promise<RedisHandle> {
  const binary = findBinary('redis-server', 'redis-server', ['/usr/bin', '/usr/sbin']);
  const dataDir = resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const port = options.port ?? (await freePort(HOST));
  const pidFile = join(dataDir, 'redis.pid');
  const logFile = join(dataDir, 'redis.log');
  const server = createOwnedServer({
    name: `redis on ${HOST}:${port}`,
    binary,
    // redis-server renames its process title, so orphans are recognised by comm + cwd (redis chdirs to --dir)
    args: [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--pidfile',
      pidFile,
      '--logfile',
      logFile,
      '--dir',
      dataDir,
      '--maxmemory-policy',
      'noeviction',
    ],
    cwd: dataDir,
    pidFile,
    logFile,
    isReady: () => pingRedis(port),
    isOurs: (info) => info.comm === 'redis-server' && info.cwd === dataDir,
    ...optionalLog(options.onLog),
  });
  await server.start();
  return {
    url: `redis://${HOST}:${port}`,
    port,
    logFile,
    get pid() {
      return server.pid;
    },
    stop: () => server.stop(),
    kill: () => server.kill(),
    restart: () => server.restart(),
  };
}
