/**
 * A fake GitHub REST API v3 for the endpoints the connector uses:
 * - `GET /user`, `GET /installation/repositories`;
 * - `POST /app/installations/{id}/access_tokens`: verifies the app's RS256 JWT against the
 *   app's public key (signature, `iss`, `exp` at most 10 minutes ahead) and issues an
 *   installation token (`ghs_…`, one hour);
 * - `GET|POST /repos/{owner}/{repo}/issues`, `GET|PATCH …/issues/{n}`,
 *   `POST …/issues/{n}/comments`, `GET …/pulls`, paged with `per_page`/`page` and `Link`.
 * Auth is `Authorization: Bearer|token <PAT or installation token>`; a `User-Agent` is
 * required. Errors are `{"message", "documentation_url", "status"}` like GitHub's.
 */
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import {
  bearerToken,
  jsonBody,
  route,
  startFakeServer,
  textOf,
  type FakeReply,
  type FakeRequest,
  type FakeSaasServer,
} from './fake-http.js';
import { checkAppJwt } from './github-app-jwt.js';
import { seedRepos, type GithubIssue, type GithubRepo } from './github-data.js';
import {
  BAD_CREDENTIALS,
  DOCS,
  error,
  issueJson,
  NOT_FOUND,
  paged,
  pullJson,
  REQUIRES_AUTH,
  SUPPORTED_VERSIONS,
  userJson,
} from './github-wire.js';
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';

/** A GitHub App the fake knows. */
export interface FakeGithubApp {
  readonly appId: string;
  readonly installationId: string;
  /** The app's public key (PEM); generated with the private key when absent. */
  readonly publicKeyPem?: string;
}

/** Options of the fake GitHub. */
export interface FakeGithubOptions {
  readonly host?: string;
  readonly port?: number;
  /** Personal access tokens accepted. */
  readonly tokens?: readonly string[];
  readonly app?: FakeGithubApp;
}

/** Default credentials of the fake (demo values, not secrets). */
export const GITHUB_DEFAULTS = {
  token: 'ghp_fortressDemoPersonalAccessToken0001',
  appId: '424242',
  installationId: '5151515',
} as const;

/** A running fake GitHub. */
export interface FakeGithub extends FakeSaasServer {
  /** Installation tokens issued by the app endpoint. */
  readonly installationTokens: OAuthIssuer;
  /** The app's private key, PKCS#1 PEM as GitHub hands it out, when the fake generated it. */
  readonly appPrivateKeyPem: string | undefined;
  readonly app: { appId: string; installationId: string };
  readonly repos: readonly GithubRepo[];
}

/** Starts a fake GitHub on loopback. */
export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const pats = new Set(options.tokens ?? [GITHUB_DEFAULTS.token]);
  const appId = options.app?.appId ?? GITHUB_DEFAULTS.appId;
  const installationId = options.app?.installationId ?? GITHUB_DEFAULTS.installationId;
  let appPrivateKeyPem: string | undefined;
  let publicKey: KeyObject;
  if (options.app?.publicKeyPem !== undefined) {
    publicKey = createPublicKey(options.app.publicKeyPem);
  } else {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    publicKey = pair.publicKey;
    appPrivateKeyPem = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  }
  const installationTokens = createOAuthIssuer({
    clients: [],
    refreshTokens: [],
    ttlSeconds: 3600,
    rotate: false,
    prefix: 'ghs_',
  });
  const repos = seedRepos();
  let nextCommentId = 1_900_000;

  type Caller = { kind: 'user'; login: string } | { kind: 'installation' };

  /** The caller, or GitHub's refusal. `undefined` means no credentials at all. */
  function caller(req: FakeRequest): Caller | FakeReply | undefined {
    const token = bearerToken(req);
    if (token === undefined) return req.headers['authorization'] ? BAD_CREDENTIALS : undefined;
    if (pats.has(token)) return { kind: 'user', login: 'fortress-bot' };
    if (installationTokens.accepts(token)) return { kind: 'installation' };
    return BAD_CREDENTIALS;
  }

  function withRepo(handler: (req: FakeRequest, repo: GithubRepo, who: Caller) => FakeReply) {
    return (req: FakeRequest): FakeReply => {
      const who = caller(req);
      if (who !== undefined && 'status' in who) return who;
      const repo = repos.find(
        (r) => r.owner === req.params['owner'] && r.name === req.params['repo'],
      );
      // Private repositories are invisible, not forbidden, to strangers.
      if (repo === undefined || who === undefined) return NOT_FOUND;
      return handler(req, repo, who);
    };
  }

  function byState(items: GithubIssue[], state: string | null): GithubIssue[] | undefined {
    if (state === null || state === 'open') return items.filter((i) => i.state === 'open');
    if (state === 'closed') return items.filter((i) => i.state === 'closed');
    if (state === 'all') return items;
    return undefined;
  }

  const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const findIssue = (repo: GithubRepo, req: FakeRequest) =>
    repo.issues.find((i) => String(i.number) === req.params['number']);

  const routes = [
    route('GET', '/user', (req) => {
      const who = caller(req);
      if (who === undefined) return REQUIRES_AUTH;
      if ('status' in who) return who;
      if (who.kind === 'installation')
        return error(
          403,
          'Resource not accessible by integration',
          `${DOCS}/users/users#get-the-authenticated-user`,
        );
      return { status: 200, json: { ...userJson(who.login), name: 'Fortress Bot', email: null } };
    }),
    route('GET', '/installation/repositories', (req) => {
      const who = caller(req);
      if (who === undefined) return REQUIRES_AUTH;
      if ('status' in who) return who;
      if (who.kind !== 'installation') {
        return error(
          403,
          'You must authenticate with an installation access token in order to list repositories for an installation.',
        );
      }
      const list = repos.map((r) => ({
        id: r.id,
        name: r.name,
        full_name: `${r.owner}/${r.name}`,
        private: r.private,
      }));
      return {
        status: 200,
        json: { total_count: list.length, repository_selection: 'selected', repositories: list },
      };
    }),
    route('POST', '/app/installations/:id/access_tokens', (req) => {
      const jwt = bearerToken(req);
      if (jwt === undefined) return error(401, 'A JSON web token could not be decoded');
      const refusal = checkAppJwt(jwt, publicKey, appId, Date.now());
      if (refusal !== undefined) return refusal;
      if (req.params['id'] !== installationId)
        return error(
          404,
          'Not Found',
          `${DOCS}/apps/apps#create-an-installation-access-token-for-an-app`,
        );
      const issued = installationTokens.issue();
      return {
        status: 201,
        json: {
          token: issued.accessToken,
          expires_at: new Date(Date.now() + issued.expiresIn * 1000)
            .toISOString()
            .replace(/\.\d{3}Z$/, 'Z'),
          permissions: { issues: 'write', pull_requests: 'read', metadata: 'read' },
          repository_selection: 'selected',
        },
      };
    }),
    route(
      'GET',
      '/repos/:owner/:repo/issues',
      withRepo((req, repo) => {
        let items = byState([...repo.issues].reverse(), req.query.get('state'));
        if (items === undefined)
          return error(422, 'Validation Failed', `${DOCS}/issues/issues#list-repository-issues`, {
            errors: [{ resource: 'Issue', field: 'state', code: 'invalid' }],
          });
        const labels = (req.query.get('labels') ?? '').split(',').filter(Boolean);
        items = items.filter((i) => labels.every((l) => i.labels.includes(l)));
        return paged(
          req,
          items.map((i) => issueJson(repo, i, req.baseUrl)),
        );
      }),
    ),
    route(
      'POST',
      '/repos/:owner/:repo/issues',
      withRepo((req, repo, who) => {
        const input = (jsonBody(req) ?? {}) as Record<string, unknown>;
        const doc = `${DOCS}/issues/issues#create-an-issue`;
        if (typeof input['title'] !== 'string' || input['title'] === '') {
          return error(422, 'Invalid request.\n\n"title" wasn\'t supplied.', doc);
        }
        const assignees = Array.isArray(input['assignees']) ? input['assignees'].map(String) : [];
        const stranger = assignees.find((a) => !repo.collaborators.includes(a));
        if (stranger !== undefined) {
          return error(422, 'Validation Failed', doc, {
            errors: [{ value: stranger, resource: 'Issue', field: 'assignees', code: 'invalid' }],
          });
        }
        const created: GithubIssue = {
          number: repo.issues.length + 1,
          title: input['title'],
          body: typeof input['body'] === 'string' ? input['body'] : null,
          state: 'open',
          state_reason: null,
          author: who.kind === 'user' ? who.login : 'fortress-app[bot]',
          labels: Array.isArray(input['labels']) ? input['labels'].map(String) : [],
          assignees,
          locked: false,
          created_at: now(),
          updated_at: now(),
          closed_at: null,
          comments: [],
        };
        repo.issues.push(created);
        const json = issueJson(repo, created, req.baseUrl);
        return { status: 201, json, headers: { location: json.url } };
      }),
    ),
    route(
      'GET',
      '/repos/:owner/:repo/issues/:number',
      withRepo((req, repo) => {
        const i = findIssue(repo, req);
        return i === undefined
          ? error(404, 'Not Found', `${DOCS}/issues/issues#get-an-issue`)
          : { status: 200, json: issueJson(repo, i, req.baseUrl) };
      }),
    ),
    route(
      'PATCH',
      '/repos/:owner/:repo/issues/:number',
      withRepo((req, repo) => {
        const i = findIssue(repo, req);
        const doc = `${DOCS}/issues/issues#update-an-issue`;
        if (i === undefined) return error(404, 'Not Found', doc);
        const input = (jsonBody(req) ?? {}) as Record<string, unknown>;
        const state = input['state'];
        const reason = input['state_reason'];
        if (state !== undefined && state !== 'open' && state !== 'closed') {
          return error(422, 'Validation Failed', doc, {
            errors: [{ resource: 'Issue', field: 'state', code: 'invalid' }],
          });
        }
        if (
          reason !== undefined &&
          reason !== null &&
          !['completed', 'not_planned', 'reopened'].includes(textOf(reason))
        ) {
          return error(422, 'Validation Failed', doc, {
            errors: [{ resource: 'Issue', field: 'state_reason', code: 'invalid' }],
          });
        }
        if (typeof input['title'] === 'string') i.title = input['title'];
        if (typeof input['body'] === 'string') i.body = input['body'];
        if (state === 'closed' && i.state !== 'closed') {
          i.state = 'closed';
          i.closed_at = now();
          i.state_reason = (reason as GithubIssue['state_reason']) ?? 'completed';
        } else if (state === 'open') {
          i.state = 'open';
          i.closed_at = null;
          i.state_reason = 'reopened';
        }
        i.updated_at = now();
        return { status: 200, json: issueJson(repo, i, req.baseUrl) };
      }),
    ),
    route(
      'POST',
      '/repos/:owner/:repo/issues/:number/comments',
      withRepo((req, repo, who) => {
        const i = findIssue(repo, req);
        const doc = `${DOCS}/issues/comments#create-an-issue-comment`;
        if (i === undefined) return error(404, 'Not Found', doc);
        if (i.locked) return error(403, 'Unable to create comment because issue is locked.', doc);
        const body = (jsonBody(req) as { body?: unknown } | undefined)?.body;
        if (typeof body !== 'string' || body === '') {
          return error(422, 'Validation Failed', doc, {
            errors: [{ resource: 'IssueComment', code: 'missing_field', field: 'body' }],
          });
        }
        const comment = {
          id: nextCommentId++,
          author: who.kind === 'user' ? who.login : 'fortress-app[bot]',
          body,
          created_at: now(),
        };
        i.comments.push(comment);
        const url = `${req.baseUrl}/repos/${repo.owner}/${repo.name}/issues/comments/${comment.id}`;
        return {
          status: 201,
          json: {
            id: comment.id,
            url,
            html_url: `https://github.com/${repo.owner}/${repo.name}/issues/${i.number}#issuecomment-${comment.id}`,
            body,
            user: userJson(comment.author),
            created_at: comment.created_at,
            updated_at: comment.created_at,
            author_association: 'MEMBER',
          },
          headers: { location: url },
        };
      }),
    ),
    route(
      'GET',
      '/repos/:owner/:repo/pulls',
      withRepo((req, repo) => {
        const pulls = [...repo.issues]
          .reverse()
          .filter(
            (i): i is GithubIssue & { pull: NonNullable<GithubIssue['pull']> } =>
              i.pull !== undefined,
          );
        const items = byState(pulls, req.query.get('state')) as
          (GithubIssue & { pull: NonNullable<GithubIssue['pull']> })[] | undefined;
        if (items === undefined)
          return error(422, 'Validation Failed', `${DOCS}/pulls/pulls#list-pull-requests`);
        return paged(
          req,
          items.map((i) => pullJson(repo, i, req.baseUrl)),
        );
      }),
    ),
  ];

  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes: routes.map((r) => ({
      ...r,
      handler: (req: FakeRequest) => {
        if (!req.headers['user-agent']) {
          return {
            status: 403,
            text: 'Request forbidden by administrative rules. Please make sure your request has a User-Agent header (https://docs.github.com/en/rest/overview/resources-in-the-rest-api#user-agent-required). Check https://developer.github.com for other possible causes.\n',
          };
        }
        const version = req.headers['x-github-api-version'];
        if (version !== undefined && !SUPPORTED_VERSIONS.includes(version)) {
          return error(
            400,
            `API version ${version} is not supported.`,
            `${DOCS}/about-the-rest-api/api-versions`,
          );
        }
        return r.handler(req);
      },
    })),
    notFound: () => NOT_FOUND,
    unavailable: { status: 503, json: { message: 'Service Unavailable' } },
    headers: (req) => ({
      'x-github-request-id': randomBytes(8).toString('hex').toUpperCase(),
      'x-github-api-version-selected': req.headers['x-github-api-version'] ?? '2022-11-28',
      'x-ratelimit-limit': '5000',
      'x-ratelimit-remaining': '4999',
      'x-ratelimit-resource': 'core',
    }),
  });
  return { ...server, installationTokens, appPrivateKeyPem, app: { appId, installationId }, repos };
}
