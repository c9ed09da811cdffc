import assert from 'node:assert/strict';
import {
  SALESFORCE_DEFAULTS,
  startFakeSalesforce,
  type FakeSalesforce,
} from '@fortress/sandbox/saas/salesforce';
import { createTokenCache } from '../../src/connectors/auth/token-cache.js';
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

describe('salesforce connector', () => {
  let fake: FakeSalesforce;
  beforeEach(async () => {
    fake = await startFakeSalesforce({ batchSize: 2 });
  });
  afterEach(() => fake.close());

  const oauth = (accessToken = '', refreshToken: string = SALESFORCE_DEFAULTS.refreshToken) =>
    credential('oauth2', accessToken, {
      refresh_token: refreshToken,
      client_id: SALESFORCE_DEFAULTS.clientId,
      client_secret: SALESFORCE_DEFAULTS.clientSecret,
    });
  const login = (password: string = SALESFORCE_DEFAULTS.password) =>
    credential('username_password', password, {
      username: SALESFORCE_DEFAULTS.username,
      client_id: SALESFORCE_DEFAULTS.clientId,
      client_secret: SALESFORCE_DEFAULTS.clientSecret,
    });
  const call = (
    action: string,
    args: Record<string, unknown>,
    cred: CredentialMaterial,
    extra: Partial<Parameters<typeof callTool>[0]> = {},
  ) =>
    callTool({
      instance: instance('salesforce', fake.url),
      credential: cred,
      action,
      args,
      signal: deadline(),
      ...extra,
    });
  const apiCalls = () => fake.requests.filter((r) => r.path.startsWith('/services/data/'));

  /** A credential holding a live access token, as after an earlier call. */
  async function live(): Promise<CredentialMaterial> {
    const outcome = await call('query', { soql: 'SELECT Id FROM Account LIMIT 1' }, oauth());
    assert.ok(outcome.refreshedCredential);
    fake.clearRequests();
    return outcome.refreshedCredential;
  }

  it('follows nextRecordsUrl batches', async () => {
    const cred = await live();
    const result = resultOf(
      await call('query', { soql: 'SELECT Id, Name, Email FROM Contact ORDER BY LastName' }, cred),
    );
    assertMatchesOutputSchema('salesforce', 'query', result);
    assert.equal(result['count'], 5);
    assert.equal(result['total_size'], 5);
    assert.equal(result['has_more'], false);
    assert.deepEqual(
      apiCalls().map((r) => r.path.replace(/query\/.*-/, 'query/…-')),
      [
        '/services/data/v62.0/query',
        '/services/data/v62.0/query/…-2',
        '/services/data/v62.0/query/…-4',
      ],
    );
    assert.ok(!(result['records'] as Record<string, unknown>[]).some((r) => 'attributes' in r));
  });

  it('stops at the limit and reports more records', async () => {
    const cred = await live();
    const result = resultOf(
      await call('query', { soql: 'SELECT Id FROM Contact', limit: 3 }, cred),
    );
    assert.equal(result['count'], 3);
    assert.equal(result['has_more'], true);
    assert.equal(apiCalls().length, 2);
  });

  const businessErrors = [
    {
      name: 'an unknown field in SOQL',
      action: 'query',
      args: { soql: 'SELECT Id, Shoe FROM Account' },
      status: 400,
      message:
        /^INVALID_FIELD: SELECT Id, Shoe FROM Account\n {11}\^\nERROR at Row:1:Column:12\nNo such column 'Shoe' on entity 'Account'/,
    },
    {
      name: 'malformed SOQL',
      action: 'query',
      args: { soql: 'SELEKT Id FROM Account' },
      status: 400,
      message: /^MALFORMED_QUERY: .*unexpected token: 'SELEKT'$/s,
    },
    {
      name: 'a missing record',
      action: 'get_record',
      args: { sobject: 'Account', id: '0015g0000000099AAA' },
      status: 404,
      message: /^NOT_FOUND: The requested resource does not exist$/,
    },
    {
      name: 'a missing required field',
      action: 'create_record',
      args: { sobject: 'Contact', fields: { FirstName: 'Ann' } },
      status: 400,
      message: /^REQUIRED_FIELD_MISSING: Required fields are missing: \[LastName\]$/,
    },
    {
      name: 'an unknown field on create',
      action: 'create_record',
      args: { sobject: 'Account', fields: { Name: 'X', Shoe: 1 } },
      status: 400,
      message: /^INVALID_FIELD: No such column 'Shoe' on sobject of type Account$/,
    },
  ];
  for (const c of businessErrors) {
    it(`passes Salesforce's [{errorCode, message}] on for ${c.name}`, async () => {
      const error = businessErrorOf(await call(c.action, c.args, await live()));
      assert.equal(error.status, c.status);
      assert.match(error.message, c.message);
    });
  }

  it('refreshes on INVALID_SESSION_ID (Salesforce gives no expiry) and retries once', async () => {
    const cred = await live();
    fake.oauth.expireAccessTokens();
    const outcome = await call(
      'get_record',
      { sobject: 'Account', id: '0015g0000000001AAA' },
      cred,
    );
    const result = resultOf(outcome);
    assert.equal((result['record'] as { Name: string }).Name, 'Acme Corporation');
    const refreshed = outcome.refreshedCredential;
    assert.ok(refreshed);
    assert.notEqual(secretOf(refreshed), secretOf(cred));
    assert.equal(field(refreshed, 'refresh_token'), SALESFORCE_DEFAULTS.refreshToken);
    assert.equal(field(refreshed, 'expires_at'), undefined);
    assert.deepEqual(
      fake.requests.map((r) => r.path),
      [
        '/services/data/v62.0/sobjects/Account/0015g0000000001AAA',
        '/services/oauth2/token',
        '/services/data/v62.0/sobjects/Account/0015g0000000001AAA',
      ],
    );
  });

  it('gives up after one refresh when the new token is refused too', async () => {
    let answered = 0;
    const refusing = ((input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : input);
      answered += 1;
      if (url.pathname === '/services/oauth2/token') {
        return Promise.resolve(
          Response.json({
            access_token: `00Dnew${answered}-token`,
            instance_url: fake.url,
            token_type: 'Bearer',
          }),
        );
      }
      void init;
      return Promise.resolve(
        Response.json(
          [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }],
          { status: 401 },
        ),
      );
    }) as typeof fetch;
    const outcome = await call(
      'query',
      { soql: 'SELECT Id FROM Account' },
      oauth('00Dold-token-token'),
      { fetch: refusing },
    );
    assert.equal(
      unavailableReason(outcome),
      'Salesforce did not accept the credentials (401): INVALID_SESSION_ID: Session expired or invalid',
    );
    assert.equal(answered, 3, 'call, refresh, one retry');
    assert.ok(outcome.refreshedCredential, 'the refreshed token is still returned for storage');
  });

  it('reports a revoked refresh token as unavailable', async () => {
    fake.oauth.revokeRefreshTokens();
    const outcome = await call('query', { soql: 'SELECT Id FROM Account' }, oauth());
    assert.equal(
      unavailableReason(outcome),
      'Salesforce refused the token refresh (400): invalid_grant (expired access/refresh token)',
    );
    assert.equal(outcome.refreshedCredential, undefined);
  });

  describe('with username and password', () => {
    it('logs in with the password grant and caches the session', async () => {
      const tokenCache = createTokenCache();
      resultOf(await call('query', { soql: 'SELECT Id FROM Case' }, login(), { tokenCache }));
      resultOf(await call('query', { soql: 'SELECT Id FROM Case' }, login(), { tokenCache }));
      const logins = fake.requests.filter((r) => r.path === '/services/oauth2/token');
      assert.equal(logins.length, 1);
      assert.equal(new URLSearchParams(logins[0]?.body).get('grant_type'), 'password');
    });

    it('logs in again when the cached session dies', async () => {
      const tokenCache = createTokenCache();
      resultOf(await call('query', { soql: 'SELECT Id FROM Case' }, login(), { tokenCache }));
      fake.oauth.expireAccessTokens();
      const outcome = await call('query', { soql: 'SELECT Id FROM Case' }, login(), { tokenCache });
      resultOf(outcome);
      assert.equal(
        outcome.refreshedCredential,
        undefined,
        'nothing to store: the password is unchanged',
      );
      assert.equal(fake.requests.filter((r) => r.path === '/services/oauth2/token').length, 2);
    });

    it('reports a wrong password as unavailable', async () => {
      const reason = unavailableReason(
        await call('query', { soql: 'SELECT Id FROM Case' }, login('wrong-password-123')),
      );
      assert.equal(
        reason,
        'Salesforce refused the login (400): invalid_grant (authentication failure)',
      );
    });
  });

  it('tests the connection with /limits', async () => {
    const outcome = await testConnection({
      instance: instance('salesforce', fake.url),
      credential: oauth(),
      signal: deadline(),
    });
    assert.equal(outcome.ok, true);
    assert.ok(outcome.refreshedCredential);
    assert.ok(fake.requests.some((r) => r.path === '/services/data/v62.0/limits'));
  });
});
