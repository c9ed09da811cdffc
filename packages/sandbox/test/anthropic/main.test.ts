import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/anthropic/main.ts', import.meta.url));

/** Runs the CLI under tsx with the given environment additions. */
function runCli(env: Record<string, string>): {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  return { child, stdout: () => out, stderr: () => err };
}

/** Resolves with the first full stdout line. */
async function firstLine(
  child: ChildProcessWithoutNullStreams,
  stdout: () => string,
): Promise<string> {
  while (!stdout().includes('\n')) {
    const [exited] = await Promise.race([
      once(child.stdout, 'data'),
      once(child, 'exit').then(() => ['exit']),
    ]);
    if (exited === 'exit') throw new Error('the CLI exited before printing its ready line');
  }
  return stdout().slice(0, stdout().indexOf('\n'));
}

describe('fake anthropic: CLI', () => {
  it('prints one ready line, serves the configured keys and exits 0 on SIGTERM', async () => {
    const { child, stdout, stderr } = runCli({
      FORTRESS_SANDBOX_PORT: '0',
      FORTRESS_SANDBOX_API_KEYS: 'sk-cli-one, sk-cli-two',
    });
    try {
      const ready = JSON.parse(await firstLine(child, stdout)) as {
        msg: string;
        url: string;
        port: number;
      };
      assert.equal(ready.msg, 'sandbox anthropic ready');
      assert.ok(ready.port > 0);
      assert.equal(ready.url, `http://127.0.0.1:${ready.port}`);
      const res = await fetch(`${ready.url}/v1/models`, {
        headers: { 'x-api-key': 'sk-cli-two', 'anthropic-version': '2023-06-01' },
      });
      assert.equal(res.status, 200);
      const closed = once(child, 'close');
      child.kill('SIGTERM');
      const [code] = (await closed) as [number | null];
      assert.equal(code, 0);
      assert.equal(
        stdout()
          .split('\n')
          .filter((l) => l !== '').length,
        1,
        'stdout holds only the ready line',
      );
      assert.ok(!stderr().includes('sk-cli-'), 'keys never reach the logs');
    } finally {
      child.kill('SIGKILL');
    }
  });

  const badEnvs = [
    {
      name: 'no keys',
      env: { FORTRESS_SANDBOX_API_KEYS: ' , ' },
      message: /FORTRESS_SANDBOX_API_KEYS is empty/,
    },
    {
      name: 'a port out of range',
      env: { FORTRESS_SANDBOX_API_KEYS: 'k', FORTRESS_SANDBOX_PORT: '70000' },
      message: /FORTRESS_SANDBOX_PORT must be an integer/,
    },
  ];
  for (const c of badEnvs) {
    it(`fails fast with exit code 1 on ${c.name}`, async () => {
      const { child, stdout, stderr } = runCli(c.env);
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 1);
      assert.equal(stdout(), '');
      assert.match(stderr(), c.message);
    });
  }
});
