import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { GITHUB_DEFAULTS, startFakeGithub, type FakeGithub } from '@fortress/sandbox/saas/github';
import { createTokenCache, type TokenCache } from '../../src/connectors/auth/token-cache.js';
import { callTool } from '../../src/connectors/call-tool.js';
import { testConnection } from '../../src/connectors/test-connection.js';
import type { CredentialMaterial } from '../../src/connectors/types.js';
import {
  assertMatchesOutputSchema,
  businessErrorOf,
  credential,
  deadline,
  instance,
  resultOf,
  unavailableReason,
} from './support.js';

const repo = { owner: 'acme', repo: 'support-portal' };

/** The app's key pair, made once: GitHub hands out PKCS#1 PEM private keys. */
const appKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const appPrivateKeyPem = appKeys.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

describe('github connector', () => {
  let fake: FakeGithub;
  beforeEach(async () => {
    fake = await startFakeGithub({
      app: {
        appId: GITHUB_DEFAULTS.appId,
        installationId: GITHUB_DEFAULTS.installationId,
        publicKeyPem: appKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      },
    });
  });
  afterEach(() => fake.close());

  const pat = (token: string = GITHUB_DEFAULTS.token) => credential('api_key', token);
  const app = (privateKeyPem = appPrivateKeyPem, installationId = fake.app.installationId) =>
    credential('app', privateKeyPem, { app_id: fake.app.appId, installation_id: installationId });
  const call = (
    action: string,
    args: Record<string, unknown>,
    cred: CredentialMaterial = pat(),
    extra: Partial<Parameters<typeof callTool>[0]> = {},
  ) =>
    callTool({
      instance: instance('github', fake.url),
      credential: cred,
      action,
      args,
      signal: deadline(),
      ...extra,
    });
  const tokenRequests = () => fake.requests.filter((r) => r.path.startsWith('/app/installations/'));

  it('sends the GitHub media type, API version and a User-Agent', async () => {
    resultOf(await call('get_issue', { ...repo, issue_number: 1 }));
    const headers = fake.requests[0]?.headers ?? {};
    assert.equal(headers['accept'], 'application/vnd.github+json');
    assert.equal(headers['x-github-api-version'], '2022-11-28');
    assert.equal(headers['authorization'], `Bearer ${GITHUB_DEFAULTS.token}`);
    assert.ok(headers['user-agent']);
  });

  it('follows Link rel="next" pages', async () => {
    const result = resultOf(
      await call('list_issues', { ...repo, state: 'all', limit: 100 }, pat(), { pageSize: 3 }),
    );
    assertMatchesOutputSchema('github', 'list_issues', result);
    assert.equal(result['count'], 8);
    assert.equal(result['has_more'], false);
    assert.deepEqual(
      fake.requests.map((r) => new URLSearchParams(r.query).get('page')),
      [null, '2', '3'],
    );
  });

  const businessErrors = [
    {
      name: 'a missing issue',
      action: 'get_issue',
      args: { ...repo, issue_number: 99 },
      status: 404,
      message: 'Not Found',
    },
    {
      name: 'an unknown repository',
      action: 'list_issues',
      args: { owner: 'acme', repo: 'nope' },
      status: 404,
      message: 'Not Found',
    },
    {
      name: 'an assignee who cannot be assigned',
      action: 'create_issue',
      args: { ...repo, title: 'x', assignees: ['ghost'] },
      status: 422,
      message: 'Validation Failed: Issue assignees invalid',
    },
    {
      name: 'a comment on a locked issue',
      action: 'comment_on_issue',
      args: { ...repo, issue_number: 5, body: 'hi' },
      status: 403,
      message: 'Unable to create comment because issue is locked.',
    },
  ];
  for (const c of businessErrors) {
    it(`passes GitHub's message on for ${c.name}`, async () => {
      const error = businessErrorOf(await call(c.action, c.args));
      assert.equal(error.status, c.status);
      assert.equal(error.message, c.message);
    });
  }

  it('reports a bad personal access token as unavailable', async () => {
    const reason = unavailableReason(
      await call('get_issue', { ...repo, issue_number: 1 }, pat('ghp_revokedrevokedrevoked')),
    );
    assert.equal(reason, 'GitHub did not accept the credentials (401): Bad credentials');
  });

  describe('as a GitHub App', () => {
    it('mints an installation token with an RS256 JWT and calls the API with it', async () => {
      const result = resultOf(await call('list_issues', repo, app()));
      assertMatchesOutputSchema('github', 'list_issues', result);
      assert.equal(tokenRequests().length, 1);
      const jwt = tokenRequests()[0]?.headers['authorization']?.replace(/^Bearer /, '') ?? '';
      const [header, claims] = jwt
        .split('.')
        .slice(0, 2)
        .map(
          (part) =>
            JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>,
        );
      assert.equal(header?.['alg'], 'RS256');
      assert.equal(claims?.['iss'], Number(fake.app.appId));
      const iat = claims?.['iat'] as number;
      const exp = claims?.['exp'] as number;
      assert.ok(exp - iat <= 600, 'exp at most 10 minutes after iat');
      assert.ok(iat <= Date.now() / 1000 - 59, 'iat backdated against clock drift');
      const apiCall = fake.requests.find((r) => r.path.endsWith('/issues'));
      assert.match(apiCall?.headers['authorization'] ?? '', /^Bearer ghs_/);
    });

    it('reuses the cached installation token until it expires, then mints a new one', async () => {
      const tokenCache = createTokenCache();
      resultOf(await call('get_issue', { ...repo, issue_number: 1 }, app(), { tokenCache }));
      resultOf(await call('get_issue', { ...repo, issue_number: 2 }, app(), { tokenCache }));
      assert.equal(tokenRequests().length, 1);
      // Seen 56 minutes later (GitHub's hour minus the margin has passed), the cache lets go.
      const later: TokenCache = {
        get: (key, now) => tokenCache.get(key, now + 56 * 60_000),
        set: (key, value) => tokenCache.set(key, value),
        delete: (key) => tokenCache.delete(key),
      };
      resultOf(await call('get_issue', { ...repo, issue_number: 1 }, app(), { tokenCache: later }));
      assert.equal(tokenRequests().length, 2);
    });

    it('mints a fresh token and retries once when GitHub refuses the cached one', async () => {
      const tokenCache = createTokenCache();
      resultOf(await call('get_issue', { ...repo, issue_number: 1 }, app(), { tokenCache }));
      fake.installationTokens.expireAccessTokens();
      resultOf(await call('get_issue', { ...repo, issue_number: 1 }, app(), { tokenCache }));
      assert.equal(tokenRequests().length, 2);
    });

    it('reports a private key GitHub does not know as unavailable', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs1', format: 'pem' })
        .toString();
      const reason = unavailableReason(
        await call('get_issue', { ...repo, issue_number: 1 }, app(other)),
      );
      assert.equal(
        reason,
        'GitHub refused the app credentials (401): A JSON web token could not be decoded',
      );
    });

    it('reports an installation that does not exist as unavailable', async () => {
      const reason = unavailableReason(
        await call('get_issue', { ...repo, issue_number: 1 }, app(undefined, '999')),
      );
      assert.equal(reason, 'GitHub refused the app credentials (404): Not Found');
    });

    it('reports a private key that is not PEM without quoting it', async () => {
      const reason = unavailableReason(
        await call('get_issue', { ...repo, issue_number: 1 }, app('not a key at all')),
      );
      assert.equal(reason, 'the GitHub App private key is not a readable PEM RSA key');
    });

    it('takes the installation id from the instance settings when the credential lacks it', async () => {
      const cred = credential('app', appPrivateKeyPem, { app_id: fake.app.appId });
      const outcome = await callTool({
        instance: instance('github', fake.url, { installationId: fake.app.installationId }),
        credential: cred,
        action: 'get_issue',
        args: { ...repo, issue_number: 1 },
        signal: deadline(),
      });
      resultOf(outcome);
    });

    it('tests the connection by listing the installation repositories', async () => {
      const outcome = await testConnection({
        instance: instance('github', fake.url),
        credential: app(),
        signal: deadline(),
      });
      assert.deepEqual(outcome, { ok: true });
      assert.ok(fake.requests.some((r) => r.path === '/installation/repositories'));
    });
  });

  it('tests a personal access token with GET /user', async () => {
    assert.deepEqual(
      await testConnection({
        instance: instance('github', fake.url),
        credential: pat(),
        signal: deadline(),
      }),
      { ok: true },
    );
    const bad = await testConnection({
      instance: instance('github', fake.url),
      credential: pat('ghp_nopenopenope'),
      signal: deadline(),
    });
    assert.deepEqual(bad, {
      ok: false,
      reason: 'GitHub did not accept the credentials (401): Bad credentials',
    });
  });
});
