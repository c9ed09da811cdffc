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
import {
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  verify,
  type KeyObject,
} from 'node:crypto';
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
import { seedRepos, type GithubIssue, type GithubRepo } from './github-data.js';
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

const DOCS = 'https://docs.github.com/rest';
const SUPPORTED_VERSIONS = ['2022-11-28', '2026-03-10'];

function error(status: number, message: string, doc = DOCS, extra: object = {}): FakeReply {
  return { status, json: { message, ...extra, documentation_url: doc, status: String(status) } };
}

const BAD_CREDENTIALS = error(401, 'Bad credentials');
const REQUIRES_AUTH = error(401, 'Requires authentication');
const NOT_FOUND = error(404, 'Not Found');
const JWT_UNDECODABLE = error(401, 'A JSON web token could not be decoded');

/** Checks an app JWT; returns GitHub's refusal, or `undefined` when it is good. */
export function checkAppJwt(
  jwt: string,
  publicKey: KeyObject,
  appId: string,
  nowMs: number,
): FakeReply | undefined {
  const [head, body, signature] = jwt.split('.');
  if (head === undefined || body === undefined || signature === undefined) return JWT_UNDECODABLE;
  let header: { alg?: unknown };
  let claims: { iat?: unknown; exp?: unknown; iss?: unknown };
  try {
    header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as typeof header;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    return JWT_UNDECODABLE;
  }
  if (header.alg !== 'RS256') return JWT_UNDECODABLE;
  if (
    !verify(
      'sha256',
      Buffer.from(`${head}.${body}`),
      publicKey,
      Buffer.from(signature, 'base64url'),
    )
  ) {
    return JWT_UNDECODABLE;
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof claims.iat !== 'number' || claims.iat > now + 60) {
    return error(
      401,
      "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued.",
    );
  }
  if (typeof claims.exp !== 'number' || claims.exp <= now) {
    return error(
      401,
      "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires.",
    );
  }
  if (claims.exp > now + 600)
    return error(401, "'Expiration time' claim ('exp') is too far in the future.");
  if (String(claims.iss) !== appId) return JWT_UNDECODABLE;
  return undefined;
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

  const userJson = (login: string) => ({
    login,
    id: 1000 + login.length,
    node_id: `U_${Buffer.from(login).toString('base64url')}`,
    type: login.endsWith('[bot]') ? 'Bot' : 'User',
    site_admin: false,
  });

  function issueJson(repo: GithubRepo, i: GithubIssue, baseUrl: string) {
    const api = `${baseUrl}/repos/${repo.owner}/${repo.name}`;
    const html = `https://github.com/${repo.owner}/${repo.name}`;
    return {
      url: `${api}/issues/${i.number}`,
      repository_url: api,
      comments_url: `${api}/issues/${i.number}/comments`,
      html_url: `${html}/${i.pull ? 'pull' : 'issues'}/${i.number}`,
      id: repo.id * 100 + i.number,
      node_id: `I_${repo.id}_${i.number}`,
      number: i.number,
      title: i.title,
      user: userJson(i.author),
      labels: i.labels.map((name, idx) => ({
        id: 900 + idx,
        name,
        color: 'd73a4a',
        default: false,
        description: null,
      })),
      state: i.state,
      locked: i.locked,
      assignee: i.assignees[0] === undefined ? null : userJson(i.assignees[0]),
      assignees: i.assignees.map(userJson),
      milestone: null,
      comments: i.comments.length,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      author_association: 'MEMBER',
      active_lock_reason: i.locked ? 'spam' : null,
      body: i.body,
      state_reason: i.state_reason,
      ...(i.pull
        ? {
            pull_request: {
              url: `${api}/pulls/${i.number}`,
              html_url: `${html}/pull/${i.number}`,
              merged_at: i.pull.merged_at,
            },
          }
        : {}),
    };
  }

  function pullJson(
    repo: GithubRepo,
    i: GithubIssue & { pull: NonNullable<GithubIssue['pull']> },
    baseUrl: string,
  ) {
    return {
      url: `${baseUrl}/repos/${repo.owner}/${repo.name}/pulls/${i.number}`,
      id: repo.id * 1000 + i.number,
      html_url: `https://github.com/${repo.owner}/${repo.name}/pull/${i.number}`,
      number: i.number,
      state: i.state,
      locked: i.locked,
      title: i.title,
      user: userJson(i.author),
      body: i.body,
      created_at: i.created_at,
      updated_at: i.updated_at,
      closed_at: i.closed_at,
      merged_at: i.pull.merged_at,
      draft: i.pull.draft,
      head: { label: `${repo.owner}:${i.pull.head}`, ref: i.pull.head, sha: '0'.repeat(40) },
      base: { label: `${repo.owner}:${i.pull.base}`, ref: i.pull.base, sha: 'f'.repeat(40) },
    };
  }

  /** One page of `items` with GitHub's `Link` header. */
  function paged<T>(req: FakeRequest, items: T[]): FakeReply {
    const perPage = Math.min(100, Math.max(1, Number(req.query.get('per_page') ?? '30') || 30));
    const page = Math.max(1, Number(req.query.get('page') ?? '1') || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number) => {
      const url = new URL(req.path, req.baseUrl);
      for (const [k, v] of req.query) if (k !== 'page') url.searchParams.append(k, v);
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(p));
      return url.toString();
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`, `<${link(1)}>; rel="first"`);
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    return {
      status: 200,
      json: items.slice((page - 1) * perPage, page * perPage),
      headers: rels.length > 0 ? { link: rels.join(', ') } : {},
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
