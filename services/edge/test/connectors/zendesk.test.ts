import assert from 'node:assert/strict';
import {
  startFakeZendesk,
  ZENDESK_DEFAULTS,
  type FakeZendesk,
} from '@fortress/sandbox/saas/zendesk';
import { callTool } from '../../src/connectors/call-tool.js';
import { testConnection } from '../../src/connectors/test-connection.js';
import type { CredentialMaterial } from '../../src/connectors/types.js';
import {
  assertMatchesOutputSchema,
  businessErrorOf,
  credential,
  deadline,
  field,
  instance,
  resultOf,
  secretOf,
  unavailableReason,
} from './support.js';

describe('zendesk connector', () => {
  let fake: FakeZendesk;
  beforeEach(async () => {
    fake = await startFakeZendesk();
  });
  afterEach(() => fake.close());

  const apiKey = (token: string = ZENDESK_DEFAULTS.apiToken) =>
    credential('api_key', token, { username: ZENDESK_DEFAULTS.email });
  const oauth = (accessToken: string, expiresAt: number) =>
    credential('oauth2', accessToken, {
      refresh_token: ZENDESK_DEFAULTS.refreshToken,
      client_id: ZENDESK_DEFAULTS.clientId,
      client_secret: ZENDESK_DEFAULTS.clientSecret,
      expires_at: String(expiresAt),
    });
  const call = (
    action: string,
    args: Record<string, unknown>,
    cred: CredentialMaterial = apiKey(),
    pageSize?: number,
  ) =>
    callTool({
      instance: instance('zendesk', fake.url),
      credential: cred,
      action,
      args,
      signal: deadline(),
      ...(pageSize === undefined ? {} : { pageSize }),
    });

  it('lists every ticket following page[after] cursors until meta.has_more is false', async () => {
    const result = resultOf(await call('list_tickets', { limit: 100 }, apiKey(), 2));
    assertMatchesOutputSchema('zendesk', 'list_tickets', result);
    assert.equal(result['count'], 7);
    assert.equal(result['has_more'], false);
    const pages = fake.requests.filter((r) => r.path === '/api/v2/tickets.json');
    assert.equal(pages.length, 4);
    assert.ok(pages.slice(1).every((r) => new URLSearchParams(r.query).has('page[after]')));
  });

  it('stops at the limit and reports has_more when the vendor has more', async () => {
    const result = resultOf(await call('list_tickets', { limit: 3 }, apiKey(), 2));
    assert.equal(result['count'], 3);
    assert.equal(result['has_more'], true);
    assert.equal(fake.requests.length, 2);
  });

  it('filters by status and assignee through the search export endpoint', async () => {
    const result = resultOf(
      await call('list_tickets', { status: 'open', assignee: 'sam.support@fortress-demo.example' }),
    );
    assertMatchesOutputSchema('zendesk', 'list_tickets', result);
    assert.deepEqual(
      (result['tickets'] as { id: number }[]).map((t) => t.id),
      [2],
    );
    assert.equal(fake.requests[0]?.path, '/api/v2/search/export.json');
  });

  it('sends Basic {email}/token:{api_token}', async () => {
    resultOf(await call('get_ticket', { id: 1 }));
    const expected = Buffer.from(
      `${ZENDESK_DEFAULTS.email}/token:${ZENDESK_DEFAULTS.apiToken}`,
    ).toString('base64');
    assert.equal(fake.requests[0]?.headers['authorization'], `Basic ${expected}`);
  });

  it('creates, updates and deletes a ticket', async () => {
    const created = resultOf(
      await call('create_ticket', {
        subject: 'Printer on fire',
        description: 'Smoke everywhere',
        priority: 'urgent',
      }),
    );
    assertMatchesOutputSchema('zendesk', 'create_ticket', created);
    const id = (created['ticket'] as { id: number }).id;
    const updated = resultOf(
      await call('update_ticket', { id, status: 'solved', comment: 'Extinguished' }),
    );
    assertMatchesOutputSchema('zendesk', 'update_ticket', updated);
    assert.equal((updated['ticket'] as { status: string }).status, 'solved');
    const sent = JSON.parse(fake.requests.at(-1)?.body ?? '{}') as unknown;
    assert.deepEqual(sent, { ticket: { status: 'solved', comment: { body: 'Extinguished' } } });
    const deleted = resultOf(await call('delete_ticket', { id }));
    assertMatchesOutputSchema('zendesk', 'delete_ticket', deleted);
    assert.deepEqual(deleted, { id, deleted: true });
    assert.equal(businessErrorOf(await call('get_ticket', { id })).status, 404);
  });

  it('passes the vendor message and details on a 422', async () => {
    const error = businessErrorOf(await call('update_ticket', { id: 7, status: 'open' }));
    assert.equal(error.status, 422);
    assert.equal(error.message, 'Record validation errors: Status: closed prevents ticket update');
  });

  it('reports a wrong API token as unavailable with the vendor message', async () => {
    const reason = unavailableReason(
      await call('get_ticket', { id: 1 }, apiKey('wrong-token-0000')),
    );
    assert.match(reason, /did not accept the credentials \(401\): Couldn't authenticate you/);
  });

  it('refreshes an expired OAuth token before the call and returns the rotated material', async () => {
    const outcome = await call(
      'get_ticket',
      { id: 1 },
      oauth('stale-access-token', Date.now() - 1000),
    );
    resultOf(outcome);
    const refreshed = outcome.refreshedCredential;
    assert.ok(refreshed);
    assert.notEqual(secretOf(refreshed), 'stale-access-token');
    assert.notEqual(field(refreshed, 'refresh_token'), ZENDESK_DEFAULTS.refreshToken);
    assert.ok(Number(field(refreshed, 'expires_at')) > Date.now());
    assert.equal(fake.oauth.refreshes, 1);
    // The rotated refresh token works for the next refresh; the old one no longer does.
    fake.oauth.expireAccessTokens();
    const again = await call('get_ticket', { id: 1 }, refreshed);
    resultOf(again);
    assert.equal(fake.oauth.refreshes, 2);
  });

  it('passes Test Connection with the API token and fails it with a wrong one', async () => {
    const ok = await testConnection({
      instance: instance('zendesk', fake.url),
      credential: apiKey(),
      signal: deadline(),
    });
    assert.deepEqual(ok, { ok: true });
    const bad = await testConnection({
      instance: instance('zendesk', fake.url),
      credential: apiKey('nope-nope-nope'),
      signal: deadline(),
    });
    assert.equal(bad.ok, false);
  });
});
