import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport, createGrpcWebTransport } from '@connectrpc/connect-node';
import { PatKeyService, PatKeyStatus, SessionService } from '@fortress/proto/admin/v1/admin_pb';
import type { ServiceProcess } from '@fortress/harness/stack/service-process';
import { seedAdmin } from '@fortress/harness/stack/seed';
import {
  ADMIN_PASSWORD,
  ALLOWED_MODEL,
  eventually,
  useStack,
  type TestStack,
} from './support/stack.js';

const PASSWORD = ADMIN_PASSWORD;

interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, unknown>;
  text: string;
}

/** The admin REST API of one edge; the session tokens it is handed go to `issued`. */
function adminApi(edgeUrl: string, issued: string[] = []) {
  const call = async (
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> => {
    const res = await fetch(`${edgeUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body !== undefined || opts.raw !== undefined
          ? { 'content-type': 'application/json' }
          : {}),
        ...opts.headers,
      },
      ...(opts.raw !== undefined
        ? { body: opts.raw }
        : opts.body !== undefined
          ? { body: JSON.stringify(opts.body) }
          : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: text ? (JSON.parse(text) as Record<string, unknown>) : {},
    };
  };
  return {
    call,
    login: async (orgId: string, email: string, password = PASSWORD) => {
      const r = await call('POST', '/auth/login', { body: { org_id: orgId, email, password } });
      assert.equal(r.status, 200, r.text);
      issued.push(r.json['access_token'] as string, r.json['refresh_token'] as string);
      return r.json['access_token'] as string;
    },
  };
}

type PatKeyJson = {
  id: string;
  label: string;
  status: string;
  limits?: { model_allowlist?: string[]; monthly_spend_cap_microusd?: string };
  credential?: { last_four?: string; version?: number };
  rotation_overlap_ends_at?: string;
};

/** Asserts a problem+json reply with the status and code. */
function assertProblem(r: Reply, status: number, code: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/problem+json');
  assert.equal(r.json['status'], status);
  assert.equal(r.json['code'], code, r.text);
  assert.equal(r.json['type'], `https://fortress.dev/problems/${code}`);
  assert.equal(typeof r.json['title'], 'string');
  assert.equal(typeof r.json['detail'], 'string');
}

describe('admin API: PAT keys (/api/v1/pat-keys)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let orgId: string;
  let api: ReturnType<typeof adminApi>;
  let adminToken: string;
  let viewerToken: string;
  let auditorToken: string;

  before(async () => {
    stack = await useStack();
    const org = await stack.seed();
    orgId = org.orgId;
    api = adminApi(stack.edgeUrl, stack.issuedSecrets);
    const users = { admin: 'admin', viewer: 'viewer', auditor: 'auditor' } as const;
    for (const [name, role] of Object.entries(users))
      await seedAdmin(stack.operator, {
        orgId,
        email: `${name}@example.com`,
        password: PASSWORD,
        roles: [role],
      });
    adminToken = await api.login(orgId, 'admin@example.com');
    viewerToken = await api.login(orgId, 'viewer@example.com');
    auditorToken = await api.login(orgId, 'auditor@example.com');
  });

  /** An org key issued for a PAT key through the admin API. */
  const orgKeyFor = async (patKeyId: string) => {
    const r = await api.call('POST', '/org-keys', {
      token: adminToken,
      body: { label: 'sdk', roles: ['developer'], pat_key_id: patKeyId },
    });
    assert.equal(r.status, 201, r.text);
    const secret = r.json['secret'] as string;
    stack.issuedOrgKeys.push(secret);
    return secret;
  };
  const clientAt = (apiKey: string, baseURL: string) =>
    new Anthropic({ apiKey, baseURL, maxRetries: 0 });
  /** An org key issued for a PAT key through the admin API, and an SDK client using it. */
  const sdkFor = async (patKeyId: string, baseURL = stack.edgeUrl) =>
    clientAt(await orgKeyFor(patKeyId), baseURL);

  const hello = (client: Anthropic) =>
    client.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hello' }],
    });

  const create = async (body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api.call('POST', '/pat-keys', { token: adminToken, body, headers });

  it('creates a PAT key: metadata out, the Anthropic key never; the key serves the SDK at once', async () => {
    const r = await create({
      label: 'Production PAT',
      anthropic_key: stack.sandboxAnthropicKey,
      limits: { model_allowlist: ['claude-haiku-4-5'], monthly_spend_cap_microusd: '5000000' },
    });
    assert.equal(r.status, 201, r.text);
    assert.ok(!r.text.includes(stack.sandboxAnthropicKey), 'the Anthropic key came back');
    const pk = r.json['pat_key'] as PatKeyJson;
    assert.match(pk.id, /^pat_/);
    assert.equal(pk.status, 'PAT_KEY_STATUS_ACTIVE');
    assert.equal(pk.label, 'Production PAT');
    // The alias was resolved to the exact id the price book knows it by.
    assert.deepEqual(pk.limits?.model_allowlist, [ALLOWED_MODEL]);
    assert.equal(pk.credential?.last_four, stack.sandboxAnthropicKey.slice(-4));
    const msg = await hello(await sdkFor(pk.id));
    assert.equal(msg.type, 'message');
  });

  it('replays a create retried with the same Idempotency-Key, and refuses the key for another body', async () => {
    const key = `idem-${randomBytes(6).toString('hex')}`;
    const body = { label: 'Retried PAT', anthropic_key: stack.sandboxAnthropicKey };
    const first = await create(body, { 'idempotency-key': key });
    assert.equal(first.status, 201, first.text);
    // The retry lands on another edge replica: the key is shared.
    const second = await adminApi(stack.edgeUrl).call('POST', '/pat-keys', {
      token: adminToken,
      body,
      headers: { 'idempotency-key': key },
    });
    assert.equal(second.status, 201);
    assert.equal(second.headers.get('idempotent-replayed'), 'true');
    assert.deepEqual(second.json, first.json);
    const list = await api.call('GET', '/pat-keys', { token: viewerToken });
    const retried = (list.json['pat_keys'] as PatKeyJson[]).filter(
      (k) => k.label === 'Retried PAT',
    );
    assert.equal(retried.length, 1, 'the retry created a second key');
    const other = await create({ ...body, label: 'Another' }, { 'idempotency-key': key });
    assertProblem(other, 422, 'idempotency_key_reused');
  });

  it('refuses bad input with problem+json and changes nothing', async () => {
    const before = (
      (await api.call('GET', '/pat-keys', { token: adminToken })).json['pat_keys'] as PatKeyJson[]
    ).length;
    assertProblem(
      await api.call('POST', '/pat-keys', { token: adminToken, raw: '{"label": ' }),
      400,
      'invalid_json',
    );
    const wrongType = await create({ label: 'x', anthropic_key: ['sk-ant-canary-in-an-array'] });
    assertProblem(wrongType, 400, 'invalid_request');
    assert.ok(!wrongType.text.includes('canary'), 'the bad value was echoed');
    assertProblem(await create({ label: 'x', anthropic_key: 'short' }), 400, 'invalid_request');
    const unknownModel = await create({
      label: 'x',
      anthropic_key: stack.sandboxAnthropicKey,
      limits: { model_allowlist: ['claude-nonexistent-9'] },
    });
    assertProblem(unknownModel, 400, 'unknown_model');
    assert.equal(unknownModel.json['field'], 'limits.model_allowlist[0]');
    assertProblem(
      await create({ label: 'x', anthropic_key: stack.sandboxAnthropicKey, colour: 'red' }),
      400,
      'invalid_request',
    );
    assertProblem(
      await api.call('POST', '/pat-keys', {
        token: adminToken,
        raw: 'label=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
      415,
      'unsupported_media_type',
    );
    assertProblem(
      await api.call('GET', '/pat-keys/pat_doesnotexist', { token: adminToken }),
      404,
      'pat_key_not_found',
    );
    assertProblem(
      await api.call('PATCH', '/pat-keys', { token: adminToken }),
      405,
      'method_not_allowed',
    );
    const after = (
      (await api.call('GET', '/pat-keys', { token: adminToken })).json['pat_keys'] as PatKeyJson[]
    ).length;
    assert.equal(after, before);
  });

  it('authenticates every call and authorises it by admin role, audited', async () => {
    assertProblem(await api.call('GET', '/pat-keys'), 401, 'missing_token');
    assertProblem(
      await api.call('GET', '/pat-keys', { token: 'not-a-session' }),
      401,
      'invalid_session_token',
    );
    const bad = await api.call('POST', '/auth/login', {
      body: { org_id: orgId, email: 'admin@example.com', password: 'wrong password!!' },
    });
    assert.equal(bad.status, 401);
    assert.ok(!bad.text.includes('wrong password'));
    // An org key is not an admin session.
    const org = await stack.seed();
    assertProblem(
      await api.call('GET', '/pat-keys', { token: org.orgKey }),
      401,
      'invalid_session_token',
    );
    assert.equal((await api.call('GET', '/pat-keys', { token: viewerToken })).status, 200);
    assert.equal((await api.call('GET', '/pat-keys', { token: auditorToken })).status, 200);
    const denied = await api.call('POST', '/pat-keys', {
      token: viewerToken,
      body: { label: 'viewer try', anthropic_key: stack.sandboxAnthropicKey },
    });
    assertProblem(denied, 403, 'not_permitted');
    const requestId = denied.headers.get('x-fortress-request-id') ?? '';
    const rows = await eventually(async () => {
      const all = await stack.auditRows(orgId);
      return all.some((r) => r.request_id === requestId) ? all : undefined;
    }, 'the denial in the audit log');
    const row = rows.find((r) => r.request_id === requestId);
    assert.deepEqual([row?.decision, row?.action], ['deny', 'admin:pat_keys.write']);
  });

  it('updates limits; usage shows requests, the per-model breakdown, spend and distance to the cap', async () => {
    const created = await create({
      label: 'Metered',
      anthropic_key: stack.sandboxAnthropicKey,
      limits: { monthly_spend_cap_microusd: '1000000' },
    });
    const pk = created.json['pat_key'] as PatKeyJson;
    const client = await sdkFor(pk.id);
    const m1 = await hello(client);
    const m2 = await hello(client);
    const put = await api.call('PUT', `/pat-keys/${pk.id}`, {
      token: adminToken,
      body: {
        label: 'Metered (renamed)',
        limits: { model_allowlist: ['claude-opus-4-1'], monthly_spend_cap_microusd: '1000000' },
      },
    });
    assert.equal(put.status, 200, put.text);
    const updated = put.json['pat_key'] as PatKeyJson;
    assert.equal(updated.label, 'Metered (renamed)');
    assert.deepEqual(updated.limits?.model_allowlist, ['claude-opus-4-1-20250805']);
    // The new allowlist is in force: the model used before is now blocked.
    await eventually(
      () =>
        hello(client).then(
          () => undefined,
          (err: unknown) => (err instanceof Anthropic.PermissionDeniedError ? true : undefined),
        ),
      'the allowlist to apply',
    );
    const usage = await eventually(async () => {
      const u = await api.call('GET', `/pat-keys/${pk.id}/usage`, { token: auditorToken });
      return u.json['requests'] === '2' ? u : undefined;
    }, 'both requests in the usage');
    const spent = [m1, m2].reduce(
      (sum, m) => sum + m.usage.input_tokens * 1 + m.usage.output_tokens * 5,
      0,
    );
    assert.equal(usage.json['spend_microusd'], String(spent));
    assert.equal(usage.json['spend_cap_microusd'], '1000000');
    assert.equal(usage.json['cap_remaining_microusd'], String(1_000_000 - spent));
    const models = usage.json['models'] as Array<{ model: string; requests: string }>;
    assert.deepEqual(
      models.map((m) => [m.model, m.requests]),
      [[ALLOWED_MODEL, '2']],
    );
    assert.ok(Number(usage.json['denied']) >= 1, 'the blocked request counts as denied');
  });

  /** The Anthropic key the sandbox saw on the last request it received after `seen`. */
  const upstreamKeyAfter = (seen: number) =>
    stack.sandbox.requests.slice(seen).at(-1)?.headers['x-api-key'];

  it('rotates: keys issued before serve with the previous Anthropic key through the 48 h overlap, new keys with the new one', async () => {
    const created = await create({ label: 'Rotating', anthropic_key: stack.sandboxAnthropicKey });
    const pk = created.json['pat_key'] as PatKeyJson;
    const before = await sdkFor(pk.id);
    await hello(before);
    const started = Date.now();
    const rotated = await api.call('POST', `/pat-keys/${pk.id}/rotate`, {
      token: adminToken,
      body: { anthropic_key: stack.sandboxRotationKey },
    });
    assert.equal(rotated.status, 200, rotated.text);
    assert.ok(!rotated.text.includes(stack.sandboxRotationKey));
    const view = rotated.json['pat_key'] as PatKeyJson;
    assert.equal(view.status, 'PAT_KEY_STATUS_ROTATED');
    assert.equal(view.credential?.version, 2);
    assert.equal(view.credential?.last_four, stack.sandboxRotationKey.slice(-4));
    const ends = Date.parse(view.rotation_overlap_ends_at ?? '');
    assert.ok(Math.abs(ends - started - 48 * 3600_000) < 60_000, 'the overlap is 48 hours');
    let seen = stack.sandbox.requests.length;
    await hello(before);
    assert.equal(upstreamKeyAfter(seen), stack.sandboxAnthropicKey, 'pinned key, previous version');
    const after = await sdkFor(pk.id);
    seen = stack.sandbox.requests.length;
    await hello(after);
    assert.equal(upstreamKeyAfter(seen), stack.sandboxRotationKey, 'new key, new version');
  });

  it('stops a key pinned to the previous version when the overlap ends, on every edge replica, with a final 401 of its own', async () => {
    const extra = [await stack.startReplica('edge'), await stack.startReplica('edge')];
    try {
      const urls = [stack.edgeUrl, ...extra.map((p) => `http://127.0.0.1:${p.ports.httpPort}`)];
      const created = await create({
        label: 'Short overlap',
        anthropic_key: stack.sandboxAnthropicKey,
      });
      const pk = created.json['pat_key'] as PatKeyJson;
      const pinned = await orgKeyFor(pk.id);
      const clients = urls.map((u) => clientAt(pinned, u));
      const rotated = await api.call('POST', `/pat-keys/${pk.id}/rotate`, {
        token: adminToken,
        body: { anthropic_key: stack.sandboxRotationKey, overlap_seconds: 3 },
      });
      const ends = Date.parse(
        (rotated.json['pat_key'] as PatKeyJson).rotation_overlap_ends_at ?? '',
      );
      // During the overlap every replica serves the pinned key with the previous Anthropic key.
      for (const c of clients) {
        const seen = stack.sandbox.requests.length;
        assert.equal((await hello(c)).type, 'message', 'serves during the overlap');
        assert.equal(upstreamKeyAfter(seen), stack.sandboxAnthropicKey);
      }
      assert.ok(Date.now() < ends, 'the overlap was over before every replica was asked');
      // After it, every replica refuses it, and not before the overlap's end.
      for (const c of clients) {
        const err = await eventually(
          () =>
            hello(c).then(
              () => undefined,
              (e: unknown) => e,
            ),
          'the pinned key to stop',
        );
        assert.ok(Date.now() >= ends, 'stopped before the overlap ended');
        assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
        assert.equal(err.headers.get('x-should-retry'), 'false');
        assert.match(err.message, /rotated out/);
      }
      const listed = await api.call('GET', `/pat-keys/${pk.id}`, { token: viewerToken });
      assert.equal((listed.json['pat_key'] as PatKeyJson).status, 'PAT_KEY_STATUS_ACTIVE');
    } finally {
      await Promise.all(extra.map((p) => p.stop()));
    }
  });

  it('shows an org key secret once: an idempotent retry is told, not given the secret again', async () => {
    const key = `idem-${randomBytes(6).toString('hex')}`;
    const body = { label: 'once', roles: ['developer'], products: ['PRODUCT_MCP'] };
    const first = await api.call('POST', '/org-keys', {
      token: adminToken,
      body,
      headers: { 'idempotency-key': key },
    });
    assert.equal(first.status, 201, first.text);
    const secret = first.json['secret'] as string;
    stack.issuedOrgKeys.push(secret);
    const retry = await api.call('POST', '/org-keys', {
      token: adminToken,
      body,
      headers: { 'idempotency-key': key },
    });
    assertProblem(retry, 409, 'idempotency_key_already_used');
    assert.ok(!retry.text.includes(secret));
    const list = await api.call('GET', '/org-keys', { token: viewerToken });
    assert.ok(!list.text.includes(secret), 'a listing shows a secret');
    const once = (list.json['keys'] as Array<{ label: string }>).filter((k) => k.label === 'once');
    assert.equal(once.length, 1);
  });

  it('revokes: every edge replica refuses the key as soon as the DELETE returns, with a final 403', async function () {
    const extra: ServiceProcess[] = [];
    try {
      extra.push(await stack.startReplica('edge'), await stack.startReplica('edge'));
      const urls = [stack.edgeUrl, ...extra.map((p) => `http://127.0.0.1:${p.ports.httpPort}`)];
      const created = await create({ label: 'Doomed', anthropic_key: stack.sandboxAnthropicKey });
      const pk = created.json['pat_key'] as PatKeyJson;
      const clients = await Promise.all(urls.map((u) => sdkFor(pk.id, u)));
      for (const c of clients) assert.equal((await hello(c)).type, 'message');
      const del = await api.call('DELETE', `/pat-keys/${pk.id}`, { token: adminToken });
      assert.equal(del.status, 200, del.text);
      assert.equal((del.json['pat_key'] as PatKeyJson).status, 'PAT_KEY_STATUS_REVOKED');
      // No waiting: the first request on every replica after the DELETE is refused.
      for (const c of clients) {
        const err = await hello(c).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof Anthropic.PermissionDeniedError, `replica served: ${String(err)}`);
        assert.equal(err.headers.get('x-should-retry'), 'false');
        assert.match(err.message, /revoked/);
      }
      // Revocation is permanent.
      const put = await api.call('PUT', `/pat-keys/${pk.id}`, {
        token: adminToken,
        body: { label: 'Undo?' },
      });
      assertProblem(put, 409, 'pat_key_revoked');
      const again = await api.call('DELETE', `/pat-keys/${pk.id}`, { token: adminToken });
      assert.equal(again.status, 200);
    } finally {
      await Promise.all(extra.map((p) => p.stop()));
    }
  });

  it('serves the same admin services over Connect and gRPC-Web, with the same chain and errors', async () => {
    for (const transport of [
      createConnectTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
      createGrpcWebTransport({ baseUrl: stack.edgeUrl, httpVersion: '1.1' }),
    ]) {
      const sessions = createClient(SessionService, transport);
      const login = await sessions.login({
        orgId,
        email: 'admin@example.com',
        password: PASSWORD,
      });
      assert.match(login.accessToken, /^ey/);
      const headers = { authorization: `Bearer ${login.accessToken}` };
      const who = await sessions.whoAmI({}, { headers });
      assert.deepEqual(who.principal?.roles, ['admin']);
      const keys = createClient(PatKeyService, transport);
      const created = await keys.createPatKey(
        {
          label: 'Over RPC',
          anthropicKey: stack.sandboxAnthropicKey,
          limits: { modelAllowlist: ['claude-haiku-4-5'] },
        },
        { headers },
      );
      assert.equal(created.patKey?.status, PatKeyStatus.ACTIVE);
      assert.deepEqual(created.patKey?.limits?.modelAllowlist, [ALLOWED_MODEL]);
      const id = created.patKey?.id ?? '';
      const listed = await keys.listPatKeys({}, { headers });
      assert.ok(listed.patKeys.some((k) => k.id === id));
      const usage = await keys.getPatKeyUsage({ id }, { headers });
      assert.equal(usage.requests, 0n);
      await assert.rejects(
        keys.createPatKey(
          { label: 'viewer try', anthropicKey: stack.sandboxAnthropicKey },
          { headers: { authorization: `Bearer ${viewerToken}` } },
        ),
        (err: unknown) =>
          err instanceof ConnectError &&
          err.code === Code.PermissionDenied &&
          err.metadata.get('fortress-reason') === 'not_permitted',
      );
      await assert.rejects(keys.listPatKeys({}), (err: unknown) => {
        return err instanceof ConnectError && err.code === Code.Unauthenticated;
      });
      const revoked = await keys.revokePatKey({ id }, { headers });
      assert.equal(revoked.patKey?.status, PatKeyStatus.REVOKED);
    }
  });
});
