/**
 * Jira Cloud platform REST API v3 (https://{site}.atlassian.net, or
 * https://api.atlassian.com/ex/jira/{cloudId} with OAuth). Search uses the enhanced JQL
 * endpoint `/rest/api/3/search/jql` paged by `nextPageToken`; rich text is Atlassian Document
 * Format; errors are `{"errorMessages": […], "errors": {field: message}}`. Auth: Basic
 * `{email}:{api_token}` or an OAuth 2.0 (3LO) bearer token refreshed at auth.atlassian.com.
 */
import { list, rec, str, text } from '../json-values.js';
import {
  array,
  boolean,
  limitArg,
  listOutput,
  nullableString,
  object,
  string,
} from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema } from '../types.js';
import { CHANGES, CREATES, DELETES, READS } from './hints.js';

const SEARCH_FIELDS = 'summary,status,issuetype,priority,assignee,reporter,project,created,updated';

const issueKey = string('The issue key, e.g. SUP-12.', {
  pattern: '^[A-Z][A-Z0-9_]{0,9}-[1-9][0-9]{0,9}$',
});

const summaryProperties: Record<string, JsonSchema> = {
  key: string(),
  id: string(),
  summary: string(),
  status: string(),
  issue_type: string(),
  priority: nullableString(),
  assignee: nullableString('Display name.'),
  reporter: nullableString('Display name.'),
  project_key: string(),
  created: string(),
  updated: string(),
};
const issueSummarySchema = object(summaryProperties);
const issueSchema = object({
  ...summaryProperties,
  description: nullableString('Plain text of the description.'),
});

function name(value: unknown): string | null {
  return str(rec(value)['name']);
}

function issueSummary(value: unknown): Record<string, unknown> {
  const i = rec(value);
  const f = rec(i['fields']);
  return {
    key: text(i['key']),
    id: text(i['id']),
    summary: text(f['summary']),
    status: text(name(f['status'])),
    issue_type: text(name(f['issuetype'])),
    priority: name(f['priority']),
    assignee: str(rec(f['assignee'])['displayName']),
    reporter: str(rec(f['reporter'])['displayName']),
    project_key: text(rec(f['project'])['key']),
    created: text(f['created']),
    updated: text(f['updated']),
  };
}

/** Plain text of an Atlassian Document Format node: text runs, paragraphs on their own lines. */
export function adfToText(node: unknown): string {
  const n = rec(node);
  if (n['type'] === 'text') return text(n['text']);
  if (n['type'] === 'hardBreak') return '\n';
  const inner = list(n['content']).map(adfToText);
  const blocks = ['doc', 'bulletList', 'orderedList', 'table', 'tableRow'];
  return inner.join(blocks.includes(text(n['type'])) ? '\n' : '');
}

/** Plain text as an ADF document, one paragraph per line. */
export function textToAdf(value: string): Record<string, unknown> {
  return {
    type: 'doc',
    version: 1,
    content: value.split('\n').map((line) => ({
      type: 'paragraph',
      content: line === '' ? [] : [{ type: 'text', text: line }],
    })),
  };
}

function fullIssue(value: unknown): Record<string, unknown> {
  const description = rec(rec(value)['fields'])['description'];
  return {
    ...issueSummary(value),
    description: description === null || description === undefined ? null : adfToText(description),
  };
}

/** Jira's `errorMessages` and per-field `errors`, or a plain-text body. */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  const b = rec(body);
  const messages = list(b['errorMessages']).map(text).filter(Boolean);
  const fields = Object.entries(rec(b['errors'])).map(
    ([field, message]) => `${field}: ${text(message)}`,
  );
  const all = [...messages, ...fields];
  if (all.length > 0) return all.join('; ');
  return str(b['message']) ?? undefined;
}

/** The Jira connector. */
export const jira: ConnectorDefinition = {
  type: 'jira',
  title: 'Jira',
  description: 'Jira Cloud issues: search with JQL, read, create, transition, delete.',
  baseUrlHint: 'https://{site}.atlassian.net',
  settings: [
    {
      name: 'tokenUrl',
      description: 'OAuth token endpoint; default https://auth.atlassian.com/oauth/token.',
      required: false,
    },
  ],
  auth: {
    api_key: { scheme: 'basic', user: 'username' },
    oauth2: {
      scheme: 'oauth2_refresh',
      tokenUrl: 'https://auth.atlassian.com/oauth/token',
      clientAuth: 'body',
      encoding: 'json',
    },
  },
  pagination: {
    style: 'cursor',
    sizeParam: 'maxResults',
    maxPageSize: 100,
    cursorParam: 'nextPageToken',
    cursorPath: ['nextPageToken'],
  },
  errors: { message: errorMessage },
  testConnection: { request: { method: 'GET', path: '/rest/api/3/myself' } },
  tools: [
    {
      action: 'search_issues',
      title: 'Search issues',
      description: 'Finds issues with a JQL query (it must be bounded, e.g. by project).',
      annotations: READS,
      inputSchema: object(
        {
          jql: string('A JQL query, e.g. project = SUP AND status = "To Do".', {
            minLength: 1,
            maxLength: 4000,
          }),
          limit: limitArg(50, 500),
        },
        ['jql'],
      ),
      outputSchema: listOutput('issues', issueSummarySchema),
      request: {
        method: 'GET',
        path: '/rest/api/3/search/jql',
        query: { jql: '{jql}', fields: SEARCH_FIELDS },
      },
      list: { itemsAt: [['issues']] },
      result: ({ items, hasMore }) => ({
        issues: items.map(issueSummary),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'get_issue',
      title: 'Get an issue',
      description: 'Reads one issue with its description.',
      annotations: READS,
      inputSchema: object({ key: issueKey }),
      outputSchema: object({ issue: issueSchema }),
      request: {
        method: 'GET',
        path: '/rest/api/3/issue/{key}',
        query: { fields: `${SEARCH_FIELDS},description` },
      },
      result: ({ body }) => ({ issue: fullIssue(body) }),
    },
    {
      action: 'create_issue',
      title: 'Create an issue',
      description: 'Creates an issue in a project.',
      annotations: CREATES,
      inputSchema: object(
        {
          project_key: string('The project key, e.g. SUP.', { pattern: '^[A-Z][A-Z0-9_]{0,9}$' }),
          summary: string('One-line summary.', { minLength: 1, maxLength: 255 }),
          issue_type: string('The issue type name.', {
            minLength: 1,
            maxLength: 60,
            default: 'Task',
          }),
          description: string('Plain-text description.', { maxLength: 32_000 }),
        },
        ['project_key', 'summary'],
      ),
      outputSchema: object({ issue: object({ id: string(), key: string() }) }),
      request: ({ args }) => ({
        method: 'POST',
        path: '/rest/api/3/issue',
        body: {
          fields: {
            project: { key: '{project_key}' },
            summary: '{summary}',
            issuetype: { name: '{issue_type}' },
            description: '{description_adf}',
          },
        },
        values:
          typeof args['description'] === 'string'
            ? { description_adf: textToAdf(args['description']) }
            : {},
      }),
      result: ({ body }) => {
        const b = rec(body);
        return { issue: { id: text(b['id']), key: text(b['key']) } };
      },
    },
    {
      action: 'list_transitions',
      title: 'List transitions',
      description:
        'Lists the workflow transitions an issue can take now (ids for transition_issue).',
      annotations: READS,
      inputSchema: object({ key: issueKey }),
      outputSchema: object({
        transitions: array(object({ id: string(), name: string(), to_status: string() })),
      }),
      request: { method: 'GET', path: '/rest/api/3/issue/{key}/transitions' },
      result: ({ body }) => ({
        transitions: list(rec(body)['transitions']).map((t) => {
          const r = rec(t);
          return { id: text(r['id']), name: text(r['name']), to_status: text(name(r['to'])) };
        }),
      }),
    },
    {
      action: 'transition_issue',
      title: 'Transition an issue',
      description: 'Moves an issue through its workflow (e.g. to Done), with an optional comment.',
      annotations: CHANGES,
      inputSchema: object(
        {
          key: issueKey,
          transition_id: string('A transition id from list_transitions.', {
            pattern: '^[0-9]{1,10}$',
          }),
          comment: string('A comment to add with the transition.', {
            minLength: 1,
            maxLength: 32_000,
          }),
        },
        ['key', 'transition_id'],
      ),
      outputSchema: object({ key: string(), transition_id: string(), transitioned: boolean() }),
      request: ({ args }) => ({
        method: 'POST',
        path: '/rest/api/3/issue/{key}/transitions',
        body: {
          transition: { id: '{transition_id}' },
          update: { comment: [{ add: { body: '{comment_adf}' } }] },
        },
        values:
          typeof args['comment'] === 'string' ? { comment_adf: textToAdf(args['comment']) } : {},
      }),
      result: ({ args }) => ({
        key: args['key'],
        transition_id: args['transition_id'],
        transitioned: true,
      }),
    },
    {
      action: 'delete_issue',
      title: 'Delete an issue',
      description: 'Deletes an issue for good (with its subtasks only when asked).',
      annotations: DELETES,
      inputSchema: object(
        {
          key: issueKey,
          delete_subtasks: boolean(
            'Also delete its subtasks; otherwise an issue with subtasks is refused.',
            {
              default: false,
            },
          ),
        },
        ['key'],
      ),
      outputSchema: object({ key: string(), deleted: boolean() }),
      request: {
        method: 'DELETE',
        path: '/rest/api/3/issue/{key}',
        query: { deleteSubtasks: '{delete_subtasks}' },
      },
      result: ({ args }) => ({ key: args['key'], deleted: true }),
    },
  ],
};
