import assert from 'node:assert/strict';
import { adminSession, eventually, useStack, type TestStack } from './support/stack.js';

describe('admin API: the org’s identity provider (/api/v1/idp)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let orgId: string;
  const tokens: Record<string, string> = {};

  const call = async (method: string, role: string, body?: unknown) => {
    const r = await fetch(`${stack.edgeUrl}/api/v1/idp`, {
      method,
      headers: {
        authorization: `Bearer ${tokens[role] ?? ''}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await r.text();
    return { status: r.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  before(async () => {
    stack = await useStack();
    orgId = (await stack.seed()).orgId;
    for (const role of ['admin', 'auditor', 'viewer'])
      tokens[role] = await adminSession(stack, orgId, role);
  });

  it('sets the IdP with defaults filled in, shows it to every admin role, and logs the change', async () => {
    assert.equal((await call('GET', 'admin')).json['code'], 'idp_not_configured');
    const config = {
      issuer: 'http://127.0.0.1:4455/tenant',
      audiences: ['api://fortress'],
      jwks_uri: 'http://127.0.0.1:4455/tenant/jwks',
      user_id_claim: 'oid',
      attribute_claims: ['department'],
    };
    const put = await call('PUT', 'admin', config);
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const stored = put.json['config'] as Record<string, unknown>;
    assert.equal(stored['user_id_claim'], 'oid');
    assert.deepEqual(stored['algorithms'], ['RS256', 'ES256', 'EdDSA']);
    for (const role of ['auditor', 'viewer']) {
      const got = await call('GET', role);
      assert.equal(got.status, 200);
      assert.equal((got.json['config'] as Record<string, unknown>)['issuer'], config.issuer);
    }
    const changes = await eventually(async () => {
      const r = await fetch(`${stack.edgeUrl}/api/v1/changes?entity_type=idp`, {
        headers: { authorization: `Bearer ${tokens['auditor'] ?? ''}` },
      });
      const j = (await r.json()) as { records: unknown[] };
      return j.records.length === 1 ? j.records : undefined;
    }, 'the idp change in the change log');
    assert.match(JSON.stringify(changes[0]), /api:\/\/fortress/);
  });

  it('refuses a change by a viewer or an auditor, and a config that does not validate', async () => {
    const body = {
      issuer: 'http://127.0.0.1:4455/other',
      audiences: ['x'],
      jwks_uri: 'http://127.0.0.1:4455/other/jwks',
    };
    assert.equal((await call('PUT', 'viewer', body)).status, 403);
    assert.equal((await call('PUT', 'auditor', body)).status, 403);
    const bad = await call('PUT', 'admin', { ...body, jwks_uri: 'http://idp.example.com/jwks' });
    assert.equal(bad.status, 400);
    const none = await call('PUT', 'admin', { ...body, algorithms: ['none'] });
    assert.equal(none.status, 400);
    const got = await call('GET', 'admin');
    assert.equal(
      (got.json['config'] as Record<string, unknown>)['issuer'],
      'http://127.0.0.1:4455/tenant',
      'a refused change changed something',
    );
  });
});
