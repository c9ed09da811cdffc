/**
 * A fake Jira Cloud platform REST API v3 for the endpoints the connector uses:
 * - `GET /rest/api/3/myself`;
 * - `GET /rest/api/3/search/jql` (enhanced search: bounded JQL, `fields`, `maxResults`,
 *   `nextPageToken`/`isLast`);
 * - `GET|DELETE /rest/api/3/issue/{key}`, `POST /rest/api/3/issue` (ADF descriptions);
 * - `GET|POST /rest/api/3/issue/{key}/transitions`;
 * - `POST /oauth/token` (Atlassian's refresh-token grant, JSON, rotating refresh tokens).
 * Auth is Basic `{email}:{api_token}` or an OAuth bearer token. Errors are
 * `{"errorMessages": […], "errors": {…}}`; a refused Basic login gets Jira's plain-text 401.
 */
import { randomBytes } from 'node:crypto';
import {
  basicAuth,
  bearerToken,
  fieldsOf,
  jsonBody,
  route,
  startFakeServer,
  textOf,
  type FakeReply,
  type FakeRequest,
  type FakeSaasServer,
} from './fake-http.js';
import {
  ISSUE_TYPES,
  PROJECTS,
  STATUSES,
  TRANSITIONS,
  seedIssues,
  seedUsers,
  type JiraIssue,
  type JiraUser,
} from './jira-data.js';
import { ALL, issueJson, matches, userJson, wantedFields } from './jira-wire.js';
import { parseJql } from './jql.js';
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';

/** Options of the fake Jira. */
export interface FakeJiraOptions {
  readonly host?: string;
  readonly port?: number;
  readonly email?: string;
  readonly apiToken?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  readonly accessTokenTtlSeconds?: number;
}

/** Default credentials of the fake (demo values, not secrets). */
export const JIRA_DEFAULTS = {
  email: 'avery.agent@fortress-demo.example',
  apiToken: 'ATATT3xFfGF0-fortress-demo-token',
  clientId: 'fortressJiraClient01',
  clientSecret: 'jira-demo-client-secret-7d1e',
  refreshToken: 'eyJraWQiOiJmb3J0cmVzcy1kZW1vIn0.refresh',
} as const;

/** A running fake Jira. */
export interface FakeJira extends FakeSaasServer {
  readonly oauth: OAuthIssuer;
  readonly issues: readonly JiraIssue[];
}

const errors = (
  status: number,
  errorMessages: string[],
  fieldErrors: Record<string, string> = {},
): FakeReply => ({
  status,
  json: { errorMessages, errors: fieldErrors },
});
const ISSUE_NOT_FOUND = errors(404, [
  'Issue does not exist or you do not have permission to see it.',
]);
const BASIC_REFUSED: FakeReply = {
  status: 401,
  text: 'Client must be authenticated to access this resource.',
  headers: {
    'www-authenticate': 'OAuth realm="https%3A%2F%2Fjira.atlassian.net"',
    'x-seraph-loginreason': 'AUTHENTICATED_FAILED',
  },
};
const BEARER_REFUSED: FakeReply = { status: 401, json: { code: 401, message: 'Unauthorized' } };

/** Starts a fake Jira on loopback. */
export async function startFakeJira(options: FakeJiraOptions = {}): Promise<FakeJira> {
  const email = options.email ?? JIRA_DEFAULTS.email;
  const apiToken = options.apiToken ?? JIRA_DEFAULTS.apiToken;
  const oauth = createOAuthIssuer({
    clients: [
      {
        clientId: options.clientId ?? JIRA_DEFAULTS.clientId,
        clientSecret: options.clientSecret ?? JIRA_DEFAULTS.clientSecret,
      },
    ],
    refreshTokens: [options.refreshToken ?? JIRA_DEFAULTS.refreshToken],
    ttlSeconds: options.accessTokenTtlSeconds ?? 3600,
    rotate: true,
    prefix: 'eyJhbGciOiJIUzI1NiJ9.',
  });
  const users: JiraUser[] = seedUsers(email);
  const me = users[0] as JiraUser;
  const issues = seedIssues(users);
  const site = { users, issues };
  const counters = new Map<string, number>(
    PROJECTS.map((p) => [p.key, issues.filter((i) => i.projectKey === p.key).length]),
  );
  let nextId = 20_000;

  function authenticate(req: FakeRequest): JiraUser | FakeReply {
    const basic = basicAuth(req);
    if (basic) return basic.user === email && basic.password === apiToken ? me : BASIC_REFUSED;
    const bearer = bearerToken(req);
    if (bearer !== undefined) return oauth.accepts(bearer) ? me : BEARER_REFUSED;
    return BASIC_REFUSED;
  }

  function authed(handler: (req: FakeRequest, user: JiraUser) => FakeReply) {
    return (req: FakeRequest): FakeReply => {
      const who = authenticate(req);
      return 'status' in who ? who : handler(req, who);
    };
  }

  function search(req: FakeRequest, user: JiraUser): FakeReply {
    const jql = req.query.get('jql') ?? '';
    const parsed = parseJql(jql);
    if (!parsed.ok) return errors(400, [parsed.error]);
    if (parsed.query.clauses.length === 0) {
      return errors(400, [
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      ]);
    }
    for (const clause of parsed.query.clauses) {
      if (clause.field === 'project') {
        const unknown = clause.values.find(
          (v) => !PROJECTS.some((p) => p.key === v.toUpperCase() || p.name === v || p.id === v),
        );
        if (unknown !== undefined)
          return errors(400, [`The value '${unknown}' does not exist for the field 'project'.`]);
      }
    }
    let found = issues.filter((i) => parsed.query.clauses.every((c) => matches(users, i, c, user)));
    const order = parsed.query.orderBy ?? { field: 'created', desc: true };
    const key = (i: JiraIssue) =>
      order.field === 'key'
        ? i.key.padStart(20)
        : order.field === 'updated'
          ? i.updated
          : i.created;
    found = [...found].sort(
      (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0) * (order.desc ? -1 : 1),
    );
    const wanted = wantedFields(req.query.get('fields'), undefined);
    const max = Math.min(
      wanted === undefined ? 5000 : 100,
      Math.max(1, Number(req.query.get('maxResults') ?? '50') || 50),
    );
    const token = req.query.get('nextPageToken');
    let start = 0;
    if (token !== null) {
      const decoded = /^offset:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
      if (decoded === null)
        return errors(400, ['The provided next page token is invalid or expired.']);
      start = Number(decoded[1]);
    }
    const page = found.slice(start, start + max);
    const isLast = start + max >= found.length;
    return {
      status: 200,
      json: {
        issues: page.map((i) => issueJson(site, i, req.baseUrl, wanted)),
        ...(isLast
          ? {}
          : { nextPageToken: Buffer.from(`offset:${start + max}`).toString('base64url') }),
        isLast,
      },
    };
  }

  const findIssue = (req: FakeRequest) =>
    issues.find((i) => i.key === req.params['key'] || i.id === req.params['key']);
  const isAdf = (v: unknown) =>
    typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'doc';
  const now = () => new Date().toISOString().replace('Z', '+0000');

  function createIssue(req: FakeRequest): FakeReply {
    const fields = ((jsonBody(req) as { fields?: Record<string, unknown> } | undefined)?.fields ??
      {}) as Record<string, Record<string, unknown> | string | undefined>;
    const problems: Record<string, string> = {};
    const projectRef = fields['project'] as Record<string, unknown> | undefined;
    const project = PROJECTS.find(
      (p) => p.key === projectRef?.['key'] || p.id === projectRef?.['id'],
    );
    if (project === undefined) problems['project'] = 'Specify a valid project ID or key';
    const summary = fields['summary'];
    if (typeof summary !== 'string' || summary.trim() === '')
      problems['summary'] = 'You must specify a summary of the issue.';
    const typeRef = fields['issuetype'] as Record<string, unknown> | undefined;
    const issueType = ISSUE_TYPES.find((t) => t === typeRef?.['name']);
    if (issueType === undefined) problems['issuetype'] = 'Specify an issue type';
    const description = fields['description'];
    if (description !== undefined && description !== null && !isAdf(description)) {
      problems['description'] =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    }
    if (Object.keys(problems).length > 0 || project === undefined || issueType === undefined)
      return errors(400, [], problems);
    const number = (counters.get(project.key) ?? 0) + 1;
    counters.set(project.key, number);
    const id = String(nextId++);
    issues.push({
      id,
      key: `${project.key}-${number}`,
      projectKey: project.key,
      summary: summary as string,
      description: description ?? null,
      issueType,
      status: STATUSES.todo,
      priority: 'Medium',
      assignee: null,
      reporter: me.accountId,
      parent: null,
      created: now(),
      updated: now(),
      comments: [],
    });
    return {
      status: 201,
      json: { id, key: `${project.key}-${number}`, self: `${req.baseUrl}/rest/api/3/issue/${id}` },
    };
  }

  const routes = [
    route(
      'GET',
      '/rest/api/3/myself',
      authed((req, user) => ({
        status: 200,
        json: {
          ...userJson(site, user.accountId, req.baseUrl),
          locale: 'en_GB',
          groups: { size: 2, items: [] },
        },
      })),
    ),
    route('GET', '/rest/api/3/search/jql', authed(search)),
    route('POST', '/rest/api/3/issue', authed(createIssue)),
    route(
      'GET',
      '/rest/api/3/issue/:key',
      authed((req) => {
        const i = findIssue(req);
        return i === undefined
          ? ISSUE_NOT_FOUND
          : {
              status: 200,
              json: issueJson(site, i, req.baseUrl, wantedFields(req.query.get('fields'), ALL)),
            };
      }),
    ),
    route(
      'DELETE',
      '/rest/api/3/issue/:key',
      authed((req) => {
        const i = findIssue(req);
        if (i === undefined) return ISSUE_NOT_FOUND;
        const subtasks = issues.filter((s) => s.parent === i.key);
        if (subtasks.length > 0 && req.query.get('deleteSubtasks') !== 'true') {
          return errors(400, ['The issue has subtasks. To delete it, set deleteSubtasks to true.']);
        }
        for (const gone of [i, ...subtasks]) issues.splice(issues.indexOf(gone), 1);
        return { status: 204 };
      }),
    ),
    route(
      'GET',
      '/rest/api/3/issue/:key/transitions',
      authed((req) => {
        const i = findIssue(req);
        if (i === undefined) return ISSUE_NOT_FOUND;
        return {
          status: 200,
          json: {
            expand: 'transitions',
            transitions: TRANSITIONS.filter((t) => t.to.id !== i.status.id).map((t) => ({
              id: t.id,
              name: t.name,
              to: {
                self: `${req.baseUrl}/rest/api/3/status/${t.to.id}`,
                description: '',
                name: t.to.name,
                id: t.to.id,
                statusCategory: t.to.category,
              },
              hasScreen: false,
              isGlobal: true,
              isInitial: false,
              isAvailable: true,
              isConditional: false,
              isLooped: false,
            })),
          },
        };
      }),
    ),
    route(
      'POST',
      '/rest/api/3/issue/:key/transitions',
      authed((req, user) => {
        const i = findIssue(req);
        if (i === undefined) return ISSUE_NOT_FOUND;
        const body = (jsonBody(req) ?? {}) as {
          transition?: { id?: unknown };
          update?: { comment?: { add?: { body?: unknown } }[] };
        };
        const id = textOf(body.transition?.id);
        const transition = TRANSITIONS.find((t) => t.id === id && t.to.id !== i.status.id);
        if (transition === undefined)
          return errors(400, [`Transition id '${id}' is not valid for this issue.`]);
        const comments = body.update?.comment ?? [];
        if (comments.some((c) => !isAdf(c.add?.body))) {
          return errors(400, [], {
            comment: 'Comment body is not valid: it must be an Atlassian Document.',
          });
        }
        i.status = transition.to;
        i.updated = now();
        for (const c of comments)
          i.comments.push({ author: user.accountId, body: c.add?.body, created: i.updated });
        return { status: 204 };
      }),
    ),
    route('POST', '/oauth/token', (req) => {
      const fields = fieldsOf(req);
      if (fields['grant_type'] !== 'refresh_token') {
        return {
          status: 400,
          json: {
            error: 'unsupported_grant_type',
            error_description: 'Grant type is not supported.',
          },
        };
      }
      const result = oauth.refresh(
        fields['client_id'] ?? '',
        fields['client_secret'] ?? '',
        fields['refresh_token'] ?? '',
      );
      if (!result.ok) {
        return result.error === 'invalid_client'
          ? { status: 401, json: { error: 'access_denied', error_description: 'Unauthorized' } }
          : {
              status: 403,
              json: {
                error: 'invalid_grant',
                error_description: 'Unknown or invalid refresh token.',
              },
            };
      }
      return {
        status: 200,
        json: {
          access_token: result.accessToken,
          refresh_token: result.refreshToken,
          expires_in: result.expiresIn,
          scope: 'read:jira-work write:jira-work read:jira-user offline_access',
          token_type: 'Bearer',
        },
      };
    }),
  ];

  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes,
    notFound: (_req, pathKnown) =>
      pathKnown
        ? { status: 405, text: '' }
        : errors(404, ['null for uri: the resource does not exist']),
    unavailable: { status: 503, json: { errorMessages: ['Service Unavailable'], errors: {} } },
    headers: () => ({
      'x-arequestid': randomBytes(6).toString('hex'),
      'atl-traceid': randomBytes(8).toString('hex'),
    }),
  });
  return { ...server, oauth, issues };
}
