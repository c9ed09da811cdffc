/**
 * GitHub's JSON as the fake answers it: error bodies, users, issues, pull requests, and
 * `per_page`/`page` pages with the `Link` header.
 */
import type { FakeReply, FakeRequest } from './fake-http.js';
import type { GithubIssue, GithubRepo } from './github-data.js';

/** Where GitHub's error bodies point. */
export const DOCS = 'https://docs.github.com/rest';
/** REST API versions the fake serves. */
export const SUPPORTED_VERSIONS = ['2022-11-28', '2026-03-10'];

/** GitHub's error body: message, documentation URL and the status as text. */
export function error(status: number, message: string, doc = DOCS, extra: object = {}): FakeReply {
  return { status, json: { message, ...extra, documentation_url: doc, status: String(status) } };
}

export const BAD_CREDENTIALS = error(401, 'Bad credentials');
export const REQUIRES_AUTH = error(401, 'Requires authentication');
export const NOT_FOUND = error(404, 'Not Found');
export const JWT_UNDECODABLE = error(401, 'A JSON web token could not be decoded');

/** A user as GitHub embeds it in issues and comments. */
export const userJson = (login: string) => ({
  login,
  id: 1000 + login.length,
  node_id: `U_${Buffer.from(login).toString('base64url')}`,
  type: login.endsWith('[bot]') ? 'Bot' : 'User',
  site_admin: false,
});

/** An issue (or a pull request seen as an issue) in GitHub's JSON. */
export function issueJson(repo: GithubRepo, i: GithubIssue, baseUrl: string) {
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

/** A pull request in GitHub's JSON. */
export function pullJson(
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
export function paged<T>(req: FakeRequest, items: T[]): FakeReply {
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
