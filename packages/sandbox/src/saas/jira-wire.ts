/**
 * Jira's JSON as the fake answers it: users, issues with the fields a request asks for, and
 * JQL clause evaluation over the stored issues.
 */
import { ISSUE_TYPES, PROJECTS, type JiraIssue, type JiraUser } from './jira-data.js';
import type { JqlClause } from './jql.js';

/** The site's people and issues. */
export interface JiraSite {
  readonly users: readonly JiraUser[];
  readonly issues: readonly JiraIssue[];
}

/** The fields `*navigable` stands for. */
export const NAVIGABLE = [
  'summary',
  'status',
  'issuetype',
  'priority',
  'assignee',
  'reporter',
  'project',
  'created',
  'updated',
  'parent',
  'subtasks',
];
/** The fields `*all` stands for. */
export const ALL = [...NAVIGABLE, 'description', 'comment'];

/** A user as Jira embeds it. */
export function userJson(site: JiraSite, accountId: string | null, baseUrl: string) {
  const u = site.users.find((x) => x.accountId === accountId);
  if (u === undefined) return null;
  return {
    self: `${baseUrl}/rest/api/3/user?accountId=${u.accountId}`,
    accountId: u.accountId,
    emailAddress: u.emailAddress,
    avatarUrls: {},
    displayName: u.displayName,
    active: true,
    timeZone: 'Europe/London',
    accountType: 'atlassian',
  };
}

/** Every field of an issue in Jira's JSON. */
function allFields(site: JiraSite, i: JiraIssue, baseUrl: string): Record<string, unknown> {
  const project = PROJECTS.find((p) => p.key === i.projectKey);
  const statusJson = {
    self: `${baseUrl}/rest/api/3/status/${i.status.id}`,
    description: '',
    name: i.status.name,
    id: i.status.id,
    statusCategory: {
      self: `${baseUrl}/rest/api/3/statuscategory/${i.status.category.id}`,
      ...i.status.category,
    },
  };
  return {
    summary: i.summary,
    status: statusJson,
    issuetype: {
      id: String(10_000 + ISSUE_TYPES.indexOf(i.issueType as (typeof ISSUE_TYPES)[number])),
      name: i.issueType,
      subtask: i.issueType === 'Sub-task',
    },
    priority:
      i.priority === null
        ? null
        : {
            name: i.priority,
            id: String(['Highest', 'High', 'Medium', 'Low', 'Lowest'].indexOf(i.priority) + 1),
          },
    assignee: userJson(site, i.assignee, baseUrl),
    reporter: userJson(site, i.reporter, baseUrl),
    project: {
      self: `${baseUrl}/rest/api/3/project/${project?.id ?? ''}`,
      id: project?.id,
      key: i.projectKey,
      name: project?.name,
      projectTypeKey: 'software',
      simplified: false,
    },
    created: i.created,
    updated: i.updated,
    ...(i.parent === null
      ? {}
      : { parent: { key: i.parent, id: site.issues.find((p) => p.key === i.parent)?.id } }),
    subtasks: site.issues.filter((s) => s.parent === i.key).map((s) => ({ id: s.id, key: s.key })),
    description: i.description,
    comment: {
      comments: i.comments.map((c) => ({
        author: userJson(site, c.author, baseUrl),
        body: c.body,
        created: c.created,
      })),
      total: i.comments.length,
    },
  };
}

/** An issue with the fields asked for (none: only its id, key and self link). */
export function issueJson(
  site: JiraSite,
  i: JiraIssue,
  baseUrl: string,
  wanted: readonly string[] | undefined,
) {
  const base = {
    expand: 'renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations',
    id: i.id,
    self: `${baseUrl}/rest/api/3/issue/${i.id}`,
    key: i.key,
  };
  if (wanted === undefined) return base;
  const fields = allFields(site, i, baseUrl);
  return {
    ...base,
    fields: Object.fromEntries(wanted.filter((f) => f in fields).map((f) => [f, fields[f]])),
  };
}

/** The field list a `fields` parameter asks for (`*all`, `*navigable`…); `fallback` when absent. */
export function wantedFields(
  param: string | null,
  fallback: readonly string[] | undefined,
): readonly string[] | undefined {
  if (param === null) return fallback;
  return param
    .split(',')
    .flatMap((f) => (f === '*all' ? ALL : f === '*navigable' ? NAVIGABLE : [f.trim()]));
}

/** Whether an issue passes one JQL clause, `currentUser()` being `user`. */
export function matches(
  users: readonly JiraUser[],
  i: JiraIssue,
  clause: JqlClause,
  user: JiraUser,
): boolean {
  const resolve = (v: string) => (v === 'currentUser()' ? user.accountId : v);
  const userMatches = (accountId: string | null, v: string) => {
    const u = users.find((x) => x.accountId === accountId);
    return u !== undefined && [u.accountId, u.displayName, u.emailAddress].includes(resolve(v));
  };
  const value = (field: string): string | null => {
    switch (field) {
      case 'project':
        return i.projectKey;
      case 'key':
      case 'issuekey':
        return i.key;
      case 'status':
        return i.status.name;
      case 'issuetype':
      case 'type':
        return i.issueType;
      case 'priority':
        return i.priority;
      case 'parent':
        return i.parent;
      default:
        return null;
    }
  };
  const equal = (v: string) => {
    if (clause.field === 'assignee') return userMatches(i.assignee, v);
    if (clause.field === 'reporter') return userMatches(i.reporter, v);
    return (value(clause.field) ?? '').toLowerCase() === v.toLowerCase();
  };
  switch (clause.op) {
    case '=':
      return equal(clause.values[0] ?? '');
    case '!=':
      return !equal(clause.values[0] ?? '');
    case 'in':
      return clause.values.some(equal);
    case '~': {
      const needle = (clause.values[0] ?? '').toLowerCase().replace(/\*/g, '');
      const haystack =
        clause.field === 'text' ? `${i.summary} ${JSON.stringify(i.description ?? '')}` : i.summary;
      return haystack.toLowerCase().includes(needle);
    }
    case 'is empty':
    case 'is not empty': {
      const raw =
        clause.field === 'assignee'
          ? i.assignee
          : clause.field === 'reporter'
            ? i.reporter
            : value(clause.field);
      return (raw === null) === (clause.op === 'is empty');
    }
  }
}
