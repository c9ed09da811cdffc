import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';

const MAIN = fileURLToPath(new URL('../../src/kms/main.ts', import.meta.url));

function startCli(env: Record<string, string>): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, ...env },
    stdio: 'pipe',
  });
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const lines = createInterface({ input: stream });
  const [line] = (await once(lines, 'line')) as [string];
  lines.close();
  return line;
}

describe('kms main (CLI)', () => {
  let dir: string;
  let child: ChildProcessWithoutNullStreams | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fortress-kms-cli-'));
  });

  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    }
    child = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('prints one ready line, serves KMS, and exits 0 on SIGTERM', async () => {
    const stateFile = join(dir, 'state.json');
    child = startCli({
      FORTRESS_KMS_PORT: '0',
      FORTRESS_KMS_STATE_FILE: stateFile,
      FORTRESS_KMS_ACCOUNT_ID: '123456789012',
    });
    const ready = JSON.parse(await firstLine(child.stdout)) as Record<string, unknown>;
    assert.deepEqual(Object.keys(ready), ['msg', 'url', 'port']);
    assert.equal(ready['msg'], 'kms ready');
    assert.equal(ready['url'], `http://127.0.0.1:${String(ready['port'])}`);

    const client = new KMSClient({
      region: 'us-east-1',
      endpoint: String(ready['url']),
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
      maxAttempts: 1,
    });
    const { KeyMetadata } = await client.send(new CreateKeyCommand({}));
    assert.match(KeyMetadata?.Arn ?? '', /^arn:aws:kms:us-east-1:123456789012:key\//);
    assert.equal((await stat(stateFile)).mode & 0o777, 0o600);
    client.destroy();

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    assert.deepEqual(await exited, [0, null]);
  });

  it('exits 1 with a JSON error on stderr when the port is invalid', async () => {
    child = startCli({ FORTRESS_KMS_PORT: 'eighty' });
    const line = JSON.parse(await firstLine(child.stderr)) as { msg: string; error: string };
    assert.equal(line.msg, 'kms failed to start');
    assert.match(line.error, /FORTRESS_KMS_PORT "eighty"/);
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1);
  });
});
