import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AckPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { MissingBinaryError, findBinary, postgresBinDir } from '../src/infra/binaries.js';
import { stopAll } from '../src/infra/cleanup.js';
import { freePort } from '../src/infra/free-port.js';
import { startNats, type NatsHandle } from '../src/infra/nats.js';
import { processState, waitForExit } from '../src/infra/proc-inspect.js';
import { pingRedis, startRedis, type RedisHandle } from '../src/infra/redis.js';
import { NotReadyError, waitUntilReady } from '../src/infra/wait-ready.js';

/** Sends one RESP command over a raw socket and returns the raw reply. */
function resp(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ port, host: '127.0.0.1' });
    socket.setTimeout(5_000, () => socket.destroy(new Error('no reply')));
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.end();
      resolve(chunk.toString('utf8'));
    });
    socket.write(
      `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`,
    );
  });
}

describe('startRedis', () => {
  let root: string;
  let redis: RedisHandle | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fortress-redis-'));
  });

  after(async () => {
    await redis?.stop();
    await stopAll();
    await rm(root, { recursive: true, force: true });
  });

  it('answers PING on loopback with persistence off and noeviction', async () => {
    redis = await startRedis({ dataDir: join(root, 'redis') });
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.equal(await resp(redis.port, 'PING'), '+PONG\r\n');
    assert.equal(
      await resp(redis.port, 'CONFIG', 'GET', 'maxmemory-policy'),
      '*2\r\n$16\r\nmaxmemory-policy\r\n$10\r\nnoeviction\r\n',
    );
    assert.equal(await resp(redis.port, 'CONFIG', 'GET', 'save'), '*2\r\n$4\r\nsave\r\n$0\r\n\r\n');
    assert.equal(existsSync(join(root, 'redis', 'redis.pid')), true);
  });

  it('is gone after kill() and answers again on the same port after restart()', async () => {
    const handle = redis!;
    const killed = handle.pid;
    assert.ok(killed !== undefined);
    await handle.kill();
    assert.equal(handle.pid, undefined);
    assert.notEqual(processState(killed), 'running');
    await assert.rejects(pingRedis(handle.port), /ECONNREFUSED/);
    await handle.restart();
    assert.notEqual(handle.pid, killed);
    assert.equal(await resp(handle.port, 'PING'), '+PONG\r\n');
  });

  it('stops a server an earlier, killed run left on the same dir', async () => {
    const dataDir = join(root, 'orphan');
    await mkdir(dataDir);
    const port = await freePort();
    // what a previous `npm start` killed with SIGKILL leaves behind: a live server and its pid file
    const orphan = spawn(
      findBinary('redis-server', 'redis-server', ['/usr/bin']),
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--pidfile',
        join(dataDir, 'redis.pid'),
        '--dir',
        dataDir,
      ],
      { cwd: dataDir, stdio: 'ignore' },
    );
    await waitUntilReady(() => pingRedis(port), { what: 'orphan redis', timeoutMs: 10_000 });
    const logs: string[] = [];
    const again = await startRedis({ dataDir, port, onLog: (line) => logs.push(line) });
    try {
      assert.equal(await waitForExit(orphan.pid!, 5_000), true);
      assert.ok(
        logs.some((line) => line.includes(`pid ${orphan.pid}`)),
        logs.join('\n'),
      );
      assert.equal(await resp(port, 'PING'), '+PONG\r\n');
    } finally {
      await again.stop();
    }
  });

  it('fails fast with the log tail when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const started = Date.now();
      await assert.rejects(startRedis({ dataDir: join(root, 'taken'), port }), (error: unknown) => {
        assert.ok(error instanceof NotReadyError);
        assert.match(error.message, /process exited with code 1/);
        assert.match(error.message, /Address already in use/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000, 'did not wait for the full timeout');
    } finally {
      blocker.close();
    }
  });
});

describe('startNats', () => {
  let root: string;
  let nats: NatsHandle | undefined;

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'fortress-nats-'));
  });

  after(async () => {
    await nats?.stop();
    await stopAll();
    await rm(root, { recursive: true, force: true });
  });

  it('answers /healthz with 200 once JetStream is ready', async () => {
    nats = await startNats({ dataDir: join(root, 'nats') });
    assert.equal(nats.url, `nats://127.0.0.1:${nats.port}`);
    const response = await fetch(`${nats.monitorUrl}/healthz`);
    assert.equal(response.status, 200);
    const jsz = (await (await fetch(`${nats.monitorUrl}/jsz`)).json()) as {
      config?: { store_dir?: string };
    };
    assert.equal(jsz.config?.store_dir, join(root, 'nats', 'jetstream'));
  });

  it('keeps streams, messages and durable consumers across restart() and kill()', async () => {
    const handle = nats!;
    const nc = await connect({ servers: handle.url });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({
        name: 'HARNESS_TEST',
        subjects: ['harness.>'],
        storage: StorageType.File,
      });
      await jsm.consumers.add('HARNESS_TEST', {
        durable_name: 'reader',
        ack_policy: AckPolicy.Explicit,
      });
      await jetstream(nc).publish('harness.one', 'kept', { msgID: 'one' });
    } finally {
      await nc.close();
    }
    await handle.restart();
    await handle.kill();
    await handle.restart();
    const again = await connect({ servers: handle.url });
    try {
      const jsm = await jetstreamManager(again);
      assert.equal((await jsm.streams.info('HARNESS_TEST')).state.messages, 1);
      const consumer = await jetstream(again).consumers.get('HARNESS_TEST', 'reader');
      const message = await consumer.next({ expires: 5_000 });
      assert.equal(message?.string(), 'kept');
      message?.ack();
    } finally {
      await again.close();
    }
  });
});

describe('waitUntilReady', () => {
  it('reports the last probe error and the tail of the log on timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fortress-wait-'));
    try {
      const logFile = join(dir, 'server.log');
      await writeFile(logFile, 'line one\nFATAL: the reason\n');
      let probes = 0;
      const probe = (): Promise<boolean> => {
        probes += 1;
        return Promise.reject(new Error(`refused #${probes}`));
      };
      await assert.rejects(
        waitUntilReady(probe, { what: 'thing', timeoutMs: 300, logFile }),
        (error: unknown) => {
          assert.ok(error instanceof NotReadyError);
          assert.match(
            error.message,
            new RegExp(`^thing not ready after 300 ms \\(last error: refused #${probes}\\)`),
          );
          assert.match(error.message, /FATAL: the reason$/);
          return true;
        },
      );
      assert.ok(probes > 1, 'polled more than once');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('binaries', () => {
  it('names the Debian package when PostgreSQL is missing', () => {
    assert.throws(
      () => postgresBinDir(undefined, '/nonexistent'),
      (error: unknown) => {
        assert.ok(error instanceof MissingBinaryError);
        assert.match(error.message, /apt-get install -y postgresql$/);
        return true;
      },
    );
  });

  it('names the Debian package when a server binary is missing', () => {
    assert.throws(
      () => findBinary('no-such-server-binary', 'some-package', ['/nonexistent']),
      /apt-get install -y some-package/,
    );
  });
});
