/**
 * GitHub REST API v3 (https://api.github.com, or https://{host}/api/v3 for GitHub Enterprise
 * Server). `Accept: application/vnd.github+json` and `X-GitHub-Api-Version` on every call;
 * lists page through the `Link` header; errors are `{"message": …, "documentation_url": …}`
 * with `errors[]` on 422. Auth: a personal access token, or a GitHub App installation token.
 */
import { bool, int, list, rec, str, text } from '../json-values.js';
import {
  array,
  boolean,
  enumOf,
  integer,
  limitArg,
  listOutput,
  nullableString,
  object,
  string,
} from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema } from '../types.js';
import { CREATES, READS, SETS } from './hints.js';

const owner = string('The account owning the repository.', {
  pattern: '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$',
});
const repo = string('The repository name.', { pattern: '^[A-Za-z0-9._-]{1,100}$' });
const issueNumber = integer('The issue number.', { minimum: 1 });
const state = enumOf(['open', 'closed', 'all'], 'Which state to list.', { default: 'open' });

const issueSchema: JsonSchema = object({
  number: integer(),
  title: string(),
  state: string(),
  state_reason: nullableString(),
  body: nullableString(),
  author: nullableString(),
  labels: array(string()),
  assignees: array(string()),
  comments: integer(),
  is_pull_request: boolean('GitHub lists pull requests among issues.'),
  html_url: string(),
  created_at: string(),
  updated_at: string(),
  closed_at: nullableString(),
});

function login(value: unknown): string | null {
  return str(rec(value)['login']);
}

function issue(value: unknown): Record<string, unknown> {
  const i = rec(value);
  return {
    number: int(i['number']),
    title: text(i['title']),
    state: text(i['state']),
    state_reason: str(i['state_reason']),
    body: str(i['body']),
    author: login(i['user']),
    labels: list(i['labels']).map((l) => (typeof l === 'string' ? l : text(rec(l)['name']))),
    assignees: list(i['assignees']).map((a) => text(rec(a)['login'])),
    comments: int(i['comments']) ?? 0,
    is_pull_request: i['pull_request'] !== undefined,
    html_url: text(i['html_url']),
    created_at: text(i['created_at']),
    updated_at: text(i['updated_at']),
    closed_at: str(i['closed_at']),
  };
}

const pullSchema: JsonSchema = object({
  number: integer(),
  title: string(),
  state: string(),
  draft: boolean(),
  author: nullableString(),
  head_ref: string(),
  base_ref: string(),
  html_url: string(),
  created_at: string(),
  updated_at: string(),
  merged_at: nullableString(),
});

function pull(value: unknown): Record<string, unknown> {
  const p = rec(value);
  return {
    number: int(p['number']),
    title: text(p['title']),
    state: text(p['state']),
    draft: bool(p['draft']),
    author: login(p['user']),
    head_ref: text(rec(p['head'])['ref']),
    base_ref: text(rec(p['base'])['ref']),
    html_url: text(p['html_url']),
    created_at: text(p['created_at']),
    updated_at: text(p['updated_at']),
    merged_at: str(p['merged_at']),
  };
}

/** GitHub's message plus the `errors[]` of a 422. */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  const b = rec(body);
  const headline = str(b['message']);
  const details = list(b['errors']).map((e) => {
    if (typeof e === 'string') return e;
    const r = rec(e);
    return (
      str(r['message']) ??
      [r['resource'], r['field'], r['code']].map(text).filter(Boolean).join(' ')
    );
  });
  if (headline === null) return undefined;
  return details.length > 0 ? `${headline}: ${details.join('; ')}` : headline;
}

/** The GitHub connector. */
export const github: ConnectorDefinition = {
  type: 'github',
  title: 'GitHub',
  description: 'GitHub issues and pull requests: list, read, open, comment, close.',
  baseUrlHint: 'https://api.github.com (or https://{host}/api/v3)',
  defaultBaseUrl: 'https://api.github.com',
  settings: [
    {
      name: 'apiVersion',
      description: 'The REST API version header.',
      required: false,
      default: '2022-11-28',
      pattern: '^\\d{4}-\\d{2}-\\d{2}$',
    },
    {
      name: 'installationId',
      description: 'The GitHub App installation, when the credential does not carry it.',
      required: false,
      pattern: '^\\d+$',
    },
  ],
  auth: {
    api_key: { scheme: 'bearer' },
    app: { scheme: 'github_app', tokenPath: '/app/installations/{installation_id}/access_tokens' },
  },
  headers: {
    accept: 'application/vnd.github+json',
    'x-github-api-version': '{settings.apiVersion}',
  },
  pagination: { style: 'link_header', sizeParam: 'per_page', maxPageSize: 100 },
  errors: { message: errorMessage },
  testConnection: {
    request: { method: 'GET', path: '/user' },
    // An installation token cannot read /user; listing its repositories proves it works.
    byKind: {
      app: { method: 'GET', path: '/installation/repositories', query: { per_page: '1' } },
    },
  },
  tools: [
    {
      action: 'list_issues',
      title: 'List issues',
      description: 'Lists issues of a repository (pull requests included, flagged).',
      annotations: READS,
      inputSchema: object(
        {
          owner,
          repo,
          state,
          labels: string('Comma-separated label names.', { maxLength: 500 }),
          limit: limitArg(30, 500),
        },
        ['owner', 'repo'],
      ),
      outputSchema: listOutput('issues', issueSchema),
      request: {
        method: 'GET',
        path: '/repos/{owner}/{repo}/issues',
        query: { state: '{state}', labels: '{labels}' },
      },
      list: { itemsAt: [[]] },
      result: ({ items, hasMore }) => ({
        issues: items.map(issue),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'get_issue',
      title: 'Get an issue',
      description: 'Reads one issue.',
      annotations: READS,
      inputSchema: object({ owner, repo, issue_number: issueNumber }),
      outputSchema: object({ issue: issueSchema }),
      request: { method: 'GET', path: '/repos/{owner}/{repo}/issues/{issue_number}' },
      result: ({ body }) => ({ issue: issue(body) }),
    },
    {
      action: 'create_issue',
      title: 'Open an issue',
      description: 'Opens an issue.',
      annotations: CREATES,
      inputSchema: object(
        {
          owner,
          repo,
          title: string('The title.', { minLength: 1, maxLength: 256 }),
          body: string('The description (Markdown).', { maxLength: 65_536 }),
          labels: array(string(undefined, { minLength: 1, maxLength: 50 }), 'Label names.', {
            maxItems: 20,
          }),
          assignees: array(string(undefined, { pattern: '^[A-Za-z0-9-]{1,39}$' }), 'Logins.', {
            maxItems: 10,
          }),
        },
        ['owner', 'repo', 'title'],
      ),
      outputSchema: object({ issue: issueSchema }),
      request: {
        method: 'POST',
        path: '/repos/{owner}/{repo}/issues',
        body: { title: '{title}', body: '{body}', labels: '{labels}', assignees: '{assignees}' },
      },
      result: ({ body }) => ({ issue: issue(body) }),
    },
    {
      action: 'comment_on_issue',
      title: 'Comment on an issue',
      description: 'Adds a comment to an issue or pull request.',
      annotations: CREATES,
      inputSchema: object({
        owner,
        repo,
        issue_number: issueNumber,
        body: string('The comment (Markdown).', { minLength: 1, maxLength: 65_536 }),
      }),
      outputSchema: object({
        comment: object({
          id: integer(),
          body: string(),
          author: nullableString(),
          html_url: string(),
          created_at: string(),
        }),
      }),
      request: {
        method: 'POST',
        path: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
        body: { body: '{body}' },
      },
      result: ({ body }) => {
        const c = rec(body);
        return {
          comment: {
            id: int(c['id']),
            body: text(c['body']),
            author: login(c['user']),
            html_url: text(c['html_url']),
            created_at: text(c['created_at']),
          },
        };
      },
    },
    {
      action: 'list_pull_requests',
      title: 'List pull requests',
      description: 'Lists pull requests of a repository.',
      annotations: READS,
      inputSchema: object({ owner, repo, state, limit: limitArg(30, 500) }, ['owner', 'repo']),
      outputSchema: listOutput('pull_requests', pullSchema),
      request: { method: 'GET', path: '/repos/{owner}/{repo}/pulls', query: { state: '{state}' } },
      list: { itemsAt: [[]] },
      result: ({ items, hasMore }) => ({
        pull_requests: items.map(pull),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'close_issue',
      title: 'Close an issue',
      description: 'Closes an issue as completed or not planned (it can be reopened).',
      annotations: SETS,
      inputSchema: object(
        {
          owner,
          repo,
          issue_number: issueNumber,
          reason: enumOf(['completed', 'not_planned'], 'Why it is closed.', {
            default: 'completed',
          }),
        },
        ['owner', 'repo', 'issue_number'],
      ),
      outputSchema: object({ issue: issueSchema }),
      request: {
        method: 'PATCH',
        path: '/repos/{owner}/{repo}/issues/{issue_number}',
        body: { state: 'closed', state_reason: '{reason}' },
      },
      result: ({ body }) => ({ issue: issue(body) }),
    },
  ],
};
