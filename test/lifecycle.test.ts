import assert from 'node:assert/strict';
import { eventually, postMessages, useStack, type TestStack } from './support/stack.js';

describe('service lifecycle', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  for (const name of ['identity', 'audit', 'edge'] as const) {
    it(`stops ${name} gracefully on SIGTERM (exit 0) and serves again after a restart`, async function () {
      this.timeout(60_000);
      const service = stack.services[name];
      const linesBefore = service.lines.length;
      await service.stop();
      assert.deepEqual(service.exit, { code: 0, signal: null });
      const said = service.lines
        .slice(linesBefore)
        .map((l) => (JSON.parse(l) as { msg?: string }).msg);
      assert.deepEqual(
        said.filter((m) => m === 'shutting down' || m === 'stopped'),
        ['shutting down', 'stopped'],
      );
      await service.restart();
      const org = await stack.seed();
      await eventually(async () => {
        const res = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
        return res.status === 200 ? true : undefined;
      }, `traffic to flow again after restarting ${name}`);
    });
  }

  it('reports readiness on the ops port', async () => {
    for (const service of Object.values(stack.services)) {
      const res = await fetch(`http://127.0.0.1:${service.ports.opsPort}/readyz`);
      assert.equal(res.status, 200, service.name);
      assert.deepEqual(await res.json(), { status: 'ready', failing: [] });
    }
  });
});
