import assert from 'node:assert/strict';
import {
  eventually,
  MAX_BODY_BYTES,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('bad input gets a clear error and changes nothing', () => {
  let stack: TestStack;
  let org: Awaited<ReturnType<TestStack['seed']>>;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    org = await stack.seed();
    // The seed's own change rows (role, and the credential through the vault's outbox) land
    // asynchronously; counting rows before and after a request must not race them.
    await eventually(async () => {
      const r = await stack.auditRows(org.orgId);
      return r.filter((x) => x.kind === 'change').length === 2 ? true : undefined;
    }, "the seed's two change rows");
  });

  const validBody = JSON.stringify({
    model: 'claude-haiku-4-5-20251001',
    max_tokens: 8,
    messages: [{ role: 'user', content: 'x' }],
  });
  const cases = [
    {
      name: 'no key at all',
      headers: {},
      body: validBody,
      status: 401,
      type: 'authentication_error',
    },
    {
      name: 'a garbled key',
      headers: { 'x-api-key': 'hunter2' },
      body: validBody,
      status: 401,
      type: 'authentication_error',
    },
    {
      name: 'a bearer that is not a key',
      headers: { authorization: 'Bearer eyJhbGciOi.x.y' },
      body: validBody,
      status: 401,
      type: 'authentication_error',
    },
    {
      name: 'invalid JSON',
      key: true,
      body: '{"model": ',
      status: 400,
      type: 'invalid_request_error',
    },
    { name: 'a JSON array', key: true, body: '[1,2]', status: 400, type: 'invalid_request_error' },
    {
      name: 'no model',
      key: true,
      body: JSON.stringify({ max_tokens: 8, messages: [] }),
      status: 400,
      type: 'invalid_request_error',
    },
    {
      name: 'a body over the limit',
      key: true,
      body: `{"model":"x","pad":"${'a'.repeat(MAX_BODY_BYTES)}"}`,
      status: 413,
      type: 'request_too_large',
    },
  ];

  for (const c of cases) {
    it(`answers ${c.status} ${c.type} to ${c.name}, with no audit row and no upstream call`, async () => {
      const upstreamBefore = stack.sandbox.requests.length;
      const rowsBefore = (await stack.auditRows(org.orgId)).length;
      const res = await postMessages(stack.edgeUrl, {
        headers: { ...(c.key ? { 'x-api-key': org.orgKey } : {}), ...c.headers },
        body: c.body,
      });
      assert.equal(res.status, c.status);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error?.type, c.type);
      assert.ok((res.json.error?.message ?? '').length > 0, 'a message says what is wrong');
      assert.match(res.headers.get('x-fortress-request-id') ?? '', /^req_/);
      assert.equal(stack.sandbox.requests.length, upstreamBefore);
      assert.equal((await stack.auditRows(org.orgId)).length, rowsBefore);
    });
  }

  it('answers 404 not_found_error for an unknown route and 405 for a wrong method', async () => {
    const missing = await fetch(`${stack.edgeUrl}/v1/nothing`, { method: 'POST' });
    assert.equal(missing.status, 404);
    assert.equal(
      ((await missing.json()) as { error: { type: string } }).error.type,
      'not_found_error',
    );
    const wrongMethod = await fetch(`${stack.edgeUrl}/v1/messages`, { method: 'GET' });
    assert.equal(wrongMethod.status, 405);
  });

  it('refuses malformed admin input with INVALID_ARGUMENT naming the field, creating nothing', async () => {
    const { ConnectError, Code } = await import('@connectrpc/connect');
    const before = await stack.operator.identityAdmin.listApiKeys({ orgId: org.orgId });
    await assert.rejects(
      stack.operator.identityAdmin.createApiKey({
        orgId: org.orgId,
        label: '',
        roles: ['developer'],
        products: [2],
      }),
      (err: unknown) =>
        err instanceof ConnectError &&
        err.code === Code.InvalidArgument &&
        /label/.test(err.rawMessage),
    );
    await assert.rejects(
      stack.operator.identityAdmin.createApiKey({
        orgId: 'not an id',
        label: 'x',
        roles: [],
        products: [2],
      }),
      (err: unknown) =>
        err instanceof ConnectError &&
        err.code === Code.InvalidArgument &&
        /org_id/.test(err.rawMessage),
    );
    const after = await stack.operator.identityAdmin.listApiKeys({ orgId: org.orgId });
    assert.equal(after.keys.length, before.keys.length);
  });
});
