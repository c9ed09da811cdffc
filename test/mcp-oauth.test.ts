import assert from 'node:assert/strict';
import { Product } from '@fortress/proto/common/v1/common_pb';
import { KeyEnvironment } from '@fortress/proto/identity/v1/identity_pb';
import { Effect } from '@fortress/proto/policy/v1/policy_pb';
import {
  startFakeZendesk,
  ZENDESK_DEFAULTS,
  type FakeZendesk,
} from '@fortress/sandbox/saas/zendesk';
import { adminCall, mcpPost } from './support/mcp.js';
import { adminSession, eventually, useStack, type TestStack } from './support/stack.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Retries a call until it succeeds: the store-back after the previous call is asynchronous. */
async function eventuallyOk<T extends { json: Record<string, unknown> }>(call: () => Promise<T>) {
  const r = await eventually(async () => {
    const x = await call();
    const result = x.json['result'] as { isError?: boolean } | undefined;
    return result && result.isError !== true ? x : undefined;
  }, 'a successful call');
  return r;
}

describe('MCP Fortress: OAuth 2 connector credentials are refreshed and stored back (M4)', () => {
  let stack: TestStack;
  let zendesk: FakeZendesk;
  let orgId: string;
  let owner: string;
  let key: string;

  const getTicket = () =>
    mcpPost(
      stack.edgeUrl,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: {
          name: 'zdoauth__get_ticket',
          arguments: { id: 1 },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': '2026-07-28',
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      {
        'x-api-key': key,
        'mcp-protocol-version': '2026-07-28',
        'mcp-method': 'tools/call',
        'mcp-name': 'zdoauth__get_ticket',
      },
    );
  const tokenRequests = () =>
    zendesk.requests.filter((r) => r.path.startsWith('/oauth/tokens')).length;

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    // Short-lived access tokens, and a refresh token the vendor replaces at each use.
    zendesk = await startFakeZendesk({ accessTokenTtlSeconds: 3600 });
    stack.issuedSecrets.push(ZENDESK_DEFAULTS.refreshToken, ZENDESK_DEFAULTS.clientSecret);
    const org = await stack.seed();
    orgId = org.orgId;
    owner = await adminSession(stack, orgId, 'owner', 'oauth-owner@example.com');
    await stack.operator.policyAdmin.putRole({
      orgId,
      actorId: 'operator',
      role: {
        name: 'agent',
        grants: [{ resourceType: 'tool', resourceId: 'zdoauth__*', effect: Effect.ALLOW }],
      },
    });
    const created = await adminCall(stack, owner, 'POST', '/connectors', {
      id: 'zdoauth',
      type: 'zendesk',
      base_url: zendesk.url,
      credential_kind: 'CREDENTIAL_KIND_OAUTH2',
      credential: {
        secret: b64('expired-access-token'),
        fields: {
          refresh_token: b64(ZENDESK_DEFAULTS.refreshToken),
          client_id: b64(ZENDESK_DEFAULTS.clientId),
          client_secret: b64(ZENDESK_DEFAULTS.clientSecret),
          expires_at: b64('1'),
        },
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const k = await stack.operator.identityAdmin.createApiKey({
      orgId,
      label: 'agent',
      roles: ['agent'],
      products: [Product.MCP],
      environment: KeyEnvironment.LIVE,
    });
    key = k.secret;
    stack.issuedOrgKeys.push(key);
  });
  after(async () => zendesk?.close());

  it('refreshes the expired token at the test, stores the rotated refresh token, and calls with the stored access token', async () => {
    const tested = await adminCall(stack, owner, 'POST', '/connectors/zdoauth/test');
    assert.equal(tested.json['ok'], true, JSON.stringify(tested.json));
    assert.equal(tokenRequests(), 1, 'one refresh, at the test');
    const version = (tested.json['connector'] as { credential: { version: number } }).credential
      .version;
    assert.ok(version >= 2, 'the refreshed credential was stored as a new version');
    for (let i = 0; i < 3; i++) {
      const r = await getTicket();
      assert.equal(r.json['error'], undefined, JSON.stringify(r.json));
      assert.notEqual((r.json['result'] as { isError?: boolean }).isError, true);
    }
    assert.equal(tokenRequests(), 1, 'the stored access token served: no refresh per call');
  });

  it('refreshes on a 401 during a call with the rotated refresh token it stored, and stores the next one', async () => {
    zendesk.oauth.expireAccessTokens();
    const first = await getTicket();
    assert.equal(first.json['error'], undefined, JSON.stringify(first.json));
    assert.notEqual(
      (first.json['result'] as { isError?: boolean }).isError,
      true,
      JSON.stringify(first.json).slice(0, 400),
    );
    assert.equal(zendesk.oauth.refreshes, 2, 'refreshed with the refresh token stored at the test');
    // The refresh token used just now was rotated again: the next expiry needs the newest one,
    // which only the store-back after the call can have put in the vault.
    zendesk.oauth.expireAccessTokens();
    const second = await eventuallyOk(getTicket);
    assert.notEqual((second.json['result'] as { isError?: boolean }).isError, true);
    assert.equal(zendesk.oauth.refreshes, 3);
  });
});
