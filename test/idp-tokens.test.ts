import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import Anthropic from '@anthropic-ai/sdk';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import type { SeededOrg } from '@fortress/harness/stack/seed';
import {
  startTestIdp,
  TEST_IDP_AUDIENCE,
  type TestIdp,
  type UserTokenSpec,
} from '@fortress/harness/idp/test-idp';
import {
  ALLOWED_MODEL,
  eventually,
  postMessages,
  useStack,
  type AuditRowView,
  type TestStack,
} from './support/stack.js';

/** Ada works in engineering and is an approver through her IdP group. */
const ADA: UserTokenSpec = {
  sub: 'pairwise-ada',
  oid: '5f1e2d3c-0000-4000-8000-00000000ada1',
  email: 'Ada@Bank.example',
  deviceid: 'dev-ada-1',
  department: 'engineering',
  groups: ['g-approvers'],
};
/** Sam is in sales: the org's attribute rule keeps him out. */
const SAM: UserTokenSpec = { oid: 'oid-sam', email: 'sam@bank.example', department: 'sales' };

interface DecisionEvent {
  decision?: {
    action?: string;
    decision?: string;
    actor?: { kind?: string; userId?: string; email?: string; roles?: string[]; apiKeyId?: string };
  };
}

/** POST /v1/fortress/token with these headers. */
async function exchange(edgeUrl: string, headers: Record<string, string>) {
  const res = await fetch(`${edgeUrl}/v1/fortress/token`, { method: 'POST', headers });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    json: JSON.parse(text) as {
      token?: string;
      expires_at?: string;
      type?: string;
      error?: { type: string; message: string };
    },
  };
}

describe('IdP tokens for a Bank org (oidc-provider as the IdP, the official SDK)', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let idp: TestIdp;
  let org: SeededOrg;
  /** Every IdP token and Fortress token this file handled: none may leave where it belongs. */
  const secrets: string[] = [];
  /** Every response body this file received. */
  const bodies: string[] = [];

  const mint = async (spec: UserTokenSpec) => {
    const token = await idp.mintToken(spec);
    secrets.push(token);
    return token;
  };
  const decisions = async (orgId: string, count: number) =>
    eventually(async () => {
      const rows = (await stack.auditRows(orgId)).filter((r) => r.kind === 'decision');
      return rows.length >= count ? rows : undefined;
    }, `${count} audited decisions`);
  const eventOf = (r: AuditRowView | undefined) => (r?.event ?? {}) as DecisionEvent;

  before(async function () {
    this.timeout(180_000);
    [stack, idp] = await Promise.all([useStack(), startTestIdp()]);
    org = await stack.seed({ tier: Tier.BANK });
    await stack.operator.identityAdmin.setIdpConfig({
      orgId: org.orgId,
      config: {
        issuer: idp.issuer,
        audiences: [TEST_IDP_AUDIENCE],
        jwksUri: idp.jwksUri,
        userIdClaim: 'oid',
        attributeClaims: ['department'],
        groupsClaim: 'groups',
        groupRoles: [{ group: 'g-approvers', roles: ['approver'] }],
      },
    });
    // A conditional rule on an IdP attribute: only engineering may call.
    await stack.operator.policyAdmin.putRule({
      orgId: org.orgId,
      actorId: 'usr_admin',
      rule: {
        id: 'engineering-only',
        scopeType: 'org',
        condition: {
          case: 'attribute',
          value: { attribute: 'department', operator: 'eq', values: ['engineering'] },
        },
      },
    });
  });
  after(() => idp?.stop());

  it('answers raw HTTP with x-api-key plus an IdP bearer token, auditing the user as the actor', async () => {
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey, authorization: `Bearer ${await mint(ADA)}` },
    });
    bodies.push(JSON.stringify(res.json));
    assert.equal(res.status, 200, JSON.stringify(res.json));
    assert.equal(res.json.type, 'message');
    const requestId = res.headers.get('x-fortress-request-id');
    const rows = await decisions(org.orgId, 1);
    const row = rows.find((r) => r.request_id === requestId);
    assert.equal(row?.decision, 'allow');
    const actor = eventOf(row).decision?.actor;
    assert.equal(actor?.kind, 'PRINCIPAL_KIND_USER');
    assert.equal(actor?.userId, ADA.oid);
    assert.equal(actor?.email, 'ada@bank.example');
    assert.equal(actor?.apiKeyId, org.orgKeyId);
    assert.deepEqual(actor?.roles, ['developer', 'approver']);
  });

  it('answers 401 authentication_error without the IdP token, and with one for another audience', async () => {
    const upstreamBefore = stack.sandbox.requests.length;
    const keyOnly = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
    const elsewhere = await postMessages(stack.edgeUrl, {
      headers: {
        'x-api-key': org.orgKey,
        authorization: `Bearer ${await mint({ ...ADA, audience: 'api://another-app' })}`,
      },
    });
    for (const res of [keyOnly, elsewhere]) {
      bodies.push(JSON.stringify(res.json));
      assert.equal(res.status, 401);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error?.type, 'authentication_error');
    }
    assert.match(keyOnly.json.error?.message ?? '', /identity provider token/);
    assert.match(elsewhere.json.error?.message ?? '', /audience/);
    assert.equal(stack.sandbox.requests.length, upstreamBefore, 'nothing was forwarded');
  });

  it("denies a user whose IdP attribute fails the org's attribute rule (403 policy_denied)", async () => {
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey, authorization: `Bearer ${await mint(SAM)}` },
    });
    bodies.push(JSON.stringify(res.json));
    assert.equal(res.status, 403);
    assert.equal(res.json.error?.type, 'policy_denied');
    assert.match(res.json.error?.message ?? '', /department/);
    const requestId = res.headers.get('x-fortress-request-id');
    const rows = await eventually(async () => {
      const r = (await stack.auditRows(org.orgId)).find((x) => x.request_id === requestId);
      return r?.kind === 'decision' ? r : undefined;
    }, 'the audited attribute denial');
    assert.equal(rows.decision, 'deny');
    assert.equal(rows.reasons[0]?.ruleId, 'rule/engineering-only');
    assert.equal(eventOf(rows).decision?.actor?.userId, SAM.oid);
  });

  it('exchanges org key + IdP token for an fk_tok_ the official SDK uses as its apiKey', async () => {
    const exchanged = await exchange(stack.edgeUrl, {
      'x-api-key': org.orgKey,
      authorization: `Bearer ${await mint(ADA)}`,
    });
    assert.equal(exchanged.status, 200, exchanged.text);
    const { token = '', expires_at: expiresAt = '' } = exchanged.json;
    secrets.push(token);
    assert.match(token, /^fk_tok_[A-Za-z0-9]{43}$/);
    assert.match(expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const lifetime = Date.parse(expiresAt) - Date.now();
    assert.ok(lifetime > 500_000 && lifetime <= 600_000, `the IdP token's 10 minutes: ${lifetime}`);
    assert.equal(exchanged.headers.get('cache-control'), 'no-store');

    const client = new Anthropic({ apiKey: token, baseURL: stack.edgeUrl, maxRetries: 0 });
    const message = await client.messages
      .create({ model: ALLOWED_MODEL, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(message.data.type, 'message');
    const requestId = message.response.headers.get('x-fortress-request-id');
    const rows = await eventually(async () => {
      const all = await stack.auditRows(org.orgId);
      const used = all.find((r) => r.kind === 'decision' && r.request_id === requestId);
      const issued = all.find(
        (r) => r.kind === 'decision' && eventOf(r).decision?.action === 'pat:token.exchange',
      );
      return used && issued ? { used, issued } : undefined;
    }, 'the exchange and the call audited');
    for (const r of [rows.used, rows.issued]) {
      assert.equal(r.decision, 'allow');
      assert.equal(eventOf(r).decision?.actor?.userId, ADA.oid);
      assert.equal(eventOf(r).decision?.actor?.email, 'ada@bank.example');
    }
  });

  it('refuses an exchange without the IdP token or the key in the Anthropic error shape', async () => {
    const noIdp = await exchange(stack.edgeUrl, { 'x-api-key': org.orgKey });
    const noKey = await exchange(stack.edgeUrl, { authorization: `Bearer ${await mint(ADA)}` });
    for (const res of [noIdp, noKey]) {
      bodies.push(res.text);
      assert.equal(res.status, 401);
      assert.equal(res.json.type, 'error');
      assert.equal(res.json.error?.type, 'authentication_error');
      assert.equal(res.json.token, undefined);
    }
    // The refusal lands in the audit log asynchronously: wait for that row, not for any row.
    await eventually(
      async () =>
        (await stack.auditRows(org.orgId)).some(
          (r) =>
            r.kind === 'decision' &&
            eventOf(r).decision?.action === 'pat:token.exchange' &&
            r.decision === 'deny' &&
            r.reasons[0]?.code === 'idp_token_required',
        ) || undefined,
      'the refused exchange audited under the org',
    );
  });

  it('stops the exchanged token at once when its org key is revoked', async () => {
    const other = await stack.seed({ tier: Tier.BANK });
    await stack.operator.identityAdmin.setIdpConfig({
      orgId: other.orgId,
      config: { issuer: idp.issuer, audiences: [TEST_IDP_AUDIENCE], jwksUri: idp.jwksUri },
    });
    const exchanged = await exchange(stack.edgeUrl, {
      'x-api-key': other.orgKey,
      authorization: `Bearer ${await mint(ADA)}`,
    });
    const token = exchanged.json.token ?? '';
    secrets.push(token);
    const client = new Anthropic({ apiKey: token, baseURL: stack.edgeUrl, maxRetries: 0 });
    const ask = () =>
      client.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      });
    assert.equal((await ask()).type, 'message');
    await stack.operator.identityAdmin.revokeApiKey({ orgId: other.orgId, keyId: other.orgKeyId });
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.AuthenticationError, String(err));
      assert.match(err.message, /revoked/);
      return true;
    });
  });

  it('fails closed with 503 when the IdP keys cannot be fetched, forwarding nothing', async () => {
    const down = await stack.seed({ tier: Tier.BANK });
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const deadPort = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stack.operator.identityAdmin.setIdpConfig({
      orgId: down.orgId,
      config: {
        issuer: idp.issuer,
        audiences: [TEST_IDP_AUDIENCE],
        jwksUri: `http://127.0.0.1:${deadPort}/jwks`,
      },
    });
    const upstreamBefore = stack.sandbox.requests.length;
    const idpToken = await mint(ADA);
    const res = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': down.orgKey, authorization: `Bearer ${idpToken}` },
    });
    const exchanged = await exchange(stack.edgeUrl, {
      'x-api-key': down.orgKey,
      authorization: `Bearer ${idpToken}`,
    });
    for (const r of [res, exchanged]) {
      bodies.push(JSON.stringify(r.json));
      assert.equal(r.status, 503);
      assert.equal(r.json.error?.type, 'api_error');
    }
    assert.equal(stack.sandbox.requests.length, upstreamBefore);
  });

  it('leaves no IdP token or Fortress token in a log line, a response body or a row', async () => {
    assert.ok(secrets.length >= 8);
    for (const service of Object.values(stack.services)) {
      for (const line of service.lines)
        for (const s of secrets)
          assert.ok(!line.includes(s), `a token in ${service.name}'s log: ${line.slice(0, 120)}`);
    }
    for (const body of bodies)
      for (const s of secrets) assert.ok(!body.includes(s), 'a token in a response body');
    const admin = new pg.Client({ connectionString: stack.adminDatabaseUrl });
    await admin.connect();
    try {
      for (const table of ['identity.exchanged_tokens', 'identity.idp_configs', 'audit.events']) {
        const { rows } = await admin.query<{ row: string }>(
          `SELECT t::text AS row FROM ${table} t`,
        );
        for (const r of rows)
          for (const s of secrets) assert.ok(!r.row.includes(s), `a token in ${table}`);
      }
    } finally {
      await admin.end();
    }
  });
});
