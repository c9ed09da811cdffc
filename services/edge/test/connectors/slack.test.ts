import assert from 'node:assert/strict';
import { SLACK_DEFAULTS, startFakeSlack, type FakeSlack } from '@fortress/sandbox/saas/slack';
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

describe('slack connector', () => {
  let fake: FakeSlack;
  beforeEach(async () => {
    fake = await startFakeSlack();
  });
  afterEach(() => fake.close());

  const bot = (token: string = SLACK_DEFAULTS.botToken) => credential('api_key', token);
  const rotating = (accessToken: string) =>
    credential('oauth2', accessToken, {
      refresh_token: SLACK_DEFAULTS.refreshToken,
      client_id: SLACK_DEFAULTS.clientId,
      client_secret: SLACK_DEFAULTS.clientSecret,
      expires_at: String(Date.now() + 3_600_000),
    });
  const call = (
    action: string,
    args: Record<string, unknown>,
    cred: CredentialMaterial = bot(),
    pageSize?: number,
  ) =>
    callTool({
      instance: instance('slack', fake.url),
      credential: cred,
      action,
      args,
      signal: deadline(),
      ...(pageSize === undefined ? {} : { pageSize }),
    });

  it('follows response_metadata.next_cursor across pages', async () => {
    const result = resultOf(
      await call(
        'list_channels',
        { types: ['public_channel', 'private_channel'], exclude_archived: false },
        bot(),
        2,
      ),
    );
    assertMatchesOutputSchema('slack', 'list_channels', result);
    // Six public channels plus the one private channel the bot is in.
    assert.equal(result['count'], 7);
    assert.equal(fake.requests.length, 4);
    assert.ok(fake.requests.slice(1).every((r) => new URLSearchParams(r.query).get('cursor')));
  });

  it('posts JSON with the bot token and returns the message', async () => {
    const result = resultOf(
      await call('post_message', { channel: 'C0SUPPORT1', text: 'Refund issued' }),
    );
    const request = fake.requests[0];
    assert.equal(request?.headers['authorization'], `Bearer ${SLACK_DEFAULTS.botToken}`);
    assert.match(request?.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(JSON.parse(request?.body ?? '{}'), {
      channel: 'C0SUPPORT1',
      text: 'Refund issued',
    });
    assert.equal((result['message'] as { text: string }).text, 'Refund issued');
  });

  it('replies in a thread and counts the reply on the parent', async () => {
    const history = resultOf(
      await call('get_channel_history', { channel: 'C0SUPPORT1', limit: 1 }),
    );
    const parent = (history['messages'] as { ts: string }[])[0]?.ts ?? '';
    resultOf(
      await call('post_message', { channel: 'C0SUPPORT1', text: 'on it', thread_ts: parent }),
    );
    const again = resultOf(await call('get_channel_history', { channel: 'C0SUPPORT1', limit: 5 }));
    const updated = (again['messages'] as { ts: string; reply_count: number }[]).find(
      (m) => m.ts === parent,
    );
    assert.equal(updated?.reply_count, 1);
  });

  const failures = [
    {
      name: 'an unknown channel',
      action: 'post_message',
      args: { channel: 'C0NOPE0001', text: 'x' },
      message: 'channel_not_found',
    },
    {
      name: 'a channel the bot is not in',
      action: 'get_channel_history',
      args: { channel: 'C0RANDOM01' },
      message: 'not_in_channel',
    },
    {
      name: 'an archived channel',
      action: 'post_message',
      args: { channel: 'C0OLDNEWS1', text: 'x' },
      message: 'is_archived',
    },
    {
      name: 'a private channel the bot cannot see',
      action: 'get_channel_history',
      args: { channel: 'G0EXECS001' },
      message: 'channel_not_found',
    },
  ];
  for (const f of failures) {
    it(`turns {"ok":false} for ${f.name} into a business error despite HTTP 200`, async () => {
      const error = businessErrorOf(await call(f.action, f.args));
      assert.deepEqual(error, { kind: 'business_error', status: 200, message: f.message });
    });
  }

  it('reports a revoked bot token (invalid_auth) as unavailable', async () => {
    const reason = unavailableReason(await call('list_channels', {}, bot('xoxb-revoked-revoked')));
    assert.equal(reason, 'Slack did not accept the credentials (200): invalid_auth');
  });

  it('rotates an expired token (token_expired) at oauth.v2.access and retries once', async () => {
    const first = await callTool({
      instance: instance('slack', fake.url),
      credential: rotating(''),
      action: 'list_channels',
      args: {},
      signal: deadline(),
    });
    resultOf(first);
    const stored = first.refreshedCredential;
    assert.ok(stored);
    assert.match(secretOf(stored), /^xoxe\.xoxb-1-/);
    fake.oauth.expireAccessTokens();
    const second = await call('list_channels', {}, stored);
    resultOf(second);
    assert.ok(second.refreshedCredential);
    assert.notEqual(
      field(second.refreshedCredential, 'refresh_token'),
      field(stored, 'refresh_token'),
    );
    const methods = fake.requests.map((r) => r.path);
    assert.deepEqual(methods, [
      '/api/oauth.v2.access',
      '/api/conversations.list',
      '/api/conversations.list',
      '/api/oauth.v2.access',
      '/api/conversations.list',
    ]);
  });

  it('reports a used-up refresh token as unavailable and still returns nothing to store', async () => {
    fake.oauth.revokeRefreshTokens();
    const outcome = await call('list_channels', {}, rotating(''));
    assert.equal(
      unavailableReason(outcome),
      'Slack refused the token refresh (200): invalid_refresh_token',
    );
    assert.equal(outcome.refreshedCredential, undefined);
  });

  it('tests the connection with auth.test', async () => {
    assert.deepEqual(
      await testConnection({
        instance: instance('slack', fake.url),
        credential: bot(),
        signal: deadline(),
      }),
      { ok: true },
    );
    assert.equal(fake.requests[0]?.path, '/api/auth.test');
  });
});
