/**
 * Zendesk Support API v2 (https://{subdomain}.zendesk.com/api/v2). Tickets are listed with
 * cursor pagination (`page[size]`/`page[after]`, `meta.has_more`); a status or assignee
 * filter goes through the Search Export endpoint, which pages the same way. Errors are
 * `{"error": …, "description": …, "details": {…}}`. Auth: Basic `{email}/token:{api_token}`
 * or an OAuth bearer token refreshed at `/oauth/tokens`.
 */
import { int, list, rec, str, strings, text } from '../json-values.js';
import {
  array,
  enumOf,
  integer,
  limitArg,
  listOutput,
  nullableInteger,
  nullableString,
  object,
  string,
  boolean,
} from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema } from '../types.js';
import { CHANGES, CREATES, DELETES, READS } from './hints.js';

const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'] as const;
const PRIORITIES = ['urgent', 'high', 'normal', 'low'] as const;

const ticketSchema: JsonSchema = object({
  id: integer(),
  subject: nullableString(),
  description: nullableString('The first comment, as the requester wrote it.'),
  status: string(),
  priority: nullableString(),
  type: nullableString(),
  requester_id: nullableInteger(),
  assignee_id: nullableInteger(),
  tags: array(string()),
  created_at: string(),
  updated_at: string(),
});

/** A Zendesk ticket as the tools return it. */
function ticket(value: unknown): Record<string, unknown> {
  const t = rec(value);
  return {
    id: int(t['id']),
    subject: str(t['subject']),
    description: str(t['description']),
    status: text(t['status']),
    priority: str(t['priority']),
    type: str(t['type']),
    requester_id: int(t['requester_id']),
    assignee_id: int(t['assignee_id']),
    tags: strings(t['tags']),
    created_at: text(t['created_at']),
    updated_at: text(t['updated_at']),
  };
}

const ticketId = integer('The ticket id.', { minimum: 1 });

/** The message of a Zendesk error body, with field details when it has them. */
function errorMessage(body: unknown): string | undefined {
  if (typeof body === 'string') return body.trim() || undefined;
  const b = rec(body);
  const error = b['error'];
  const headline =
    str(b['description']) ??
    str(b['error_description']) ??
    (typeof error === 'string' ? error : (str(rec(error)['message']) ?? str(rec(error)['title'])));
  const details = Object.values(rec(b['details']))
    .flatMap(list)
    .map((d) => str(rec(d)['description']))
    .filter((d): d is string => d !== null);
  if (headline === null) return details.length > 0 ? details.join('; ') : undefined;
  return details.length > 0 ? `${headline}: ${details.join('; ')}` : headline;
}

/** The Zendesk connector. */
export const zendesk: ConnectorDefinition = {
  type: 'zendesk',
  title: 'Zendesk',
  description: 'Zendesk Support tickets: list, read, create, update and delete.',
  baseUrlHint: 'https://{subdomain}.zendesk.com',
  settings: [
    {
      name: 'tokenUrl',
      description: 'OAuth token endpoint; default {baseUrl}/oauth/tokens.',
      required: false,
    },
  ],
  auth: {
    api_key: { scheme: 'basic', user: 'username/token' },
    oauth2: {
      scheme: 'oauth2_refresh',
      tokenUrl: '{baseUrl}/oauth/tokens',
      clientAuth: 'body',
      encoding: 'json',
    },
  },
  pagination: {
    style: 'cursor',
    sizeParam: 'page[size]',
    maxPageSize: 100,
    cursorParam: 'page[after]',
    cursorPath: ['meta', 'after_cursor'],
    hasMorePath: ['meta', 'has_more'],
  },
  errors: { message: errorMessage },
  testConnection: {
    request: { method: 'GET', path: '/api/v2/users/me.json' },
    // Zendesk answers an unauthenticated /users/me with an anonymous user (id null), not 401.
    verify: (body) =>
      int(rec(rec(body)['user'])['id']) === null
        ? 'Zendesk answered as an anonymous user: the credentials were not applied'
        : undefined,
  },
  tools: [
    {
      action: 'list_tickets',
      title: 'List tickets',
      description:
        'Lists tickets, optionally only those with a status and/or assignee (email, name, id, "me" or "none").',
      annotations: READS,
      inputSchema: object(
        {
          status: enumOf(STATUSES, 'Only tickets with this status.'),
          assignee: string(
            'Only tickets assigned to this agent (email, name, user id, "me" or "none").',
            {
              minLength: 1,
              maxLength: 254,
              pattern: '^[^"\\\\]+$',
            },
          ),
          limit: limitArg(25, 500),
        },
        [],
      ),
      outputSchema: listOutput('tickets', ticketSchema),
      request: ({ args }) => {
        const terms: string[] = [];
        if (typeof args['status'] === 'string') terms.push(`status:${args['status']}`);
        if (typeof args['assignee'] === 'string') terms.push(`assignee:"${args['assignee']}"`);
        if (terms.length === 0) return { method: 'GET', path: '/api/v2/tickets.json' };
        return {
          method: 'GET',
          path: '/api/v2/search/export.json',
          query: { query: '{query}', 'filter[type]': 'ticket' },
          values: { query: terms.join(' ') },
        };
      },
      list: { itemsAt: [['tickets'], ['results']] },
      result: ({ items, hasMore }) => ({
        tickets: items.map(ticket),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'get_ticket',
      title: 'Get a ticket',
      description: 'Reads one ticket by id.',
      annotations: READS,
      inputSchema: object({ id: ticketId }),
      outputSchema: object({ ticket: ticketSchema }),
      request: { method: 'GET', path: '/api/v2/tickets/{id}.json' },
      result: ({ body }) => ({ ticket: ticket(rec(body)['ticket']) }),
    },
    {
      action: 'create_ticket',
      title: 'Create a ticket',
      description: 'Opens a ticket; the description becomes its first comment.',
      annotations: CREATES,
      inputSchema: object(
        {
          subject: string('One-line summary.', { minLength: 1, maxLength: 255 }),
          description: string('The first comment.', { minLength: 1, maxLength: 65_536 }),
          priority: enumOf(PRIORITIES),
        },
        ['subject', 'description'],
      ),
      outputSchema: object({ ticket: ticketSchema }),
      request: {
        method: 'POST',
        path: '/api/v2/tickets.json',
        body: {
          ticket: {
            subject: '{subject}',
            comment: { body: '{description}' },
            priority: '{priority}',
          },
        },
      },
      result: ({ body }) => ({ ticket: ticket(rec(body)['ticket']) }),
    },
    {
      action: 'update_ticket',
      title: 'Update a ticket',
      description: 'Sets a ticket status and/or adds a comment (public unless said otherwise).',
      annotations: CHANGES,
      inputSchema: object(
        {
          id: ticketId,
          status: enumOf(STATUSES),
          comment: string('A comment to add.', { minLength: 1, maxLength: 65_536 }),
          public: boolean('Whether the comment is visible to the requester.'),
        },
        ['id'],
        {
          anyOf: [{ required: ['status'] }, { required: ['comment'] }],
          dependencies: { public: ['comment'] },
        },
      ),
      outputSchema: object({ ticket: ticketSchema }),
      request: {
        method: 'PUT',
        path: '/api/v2/tickets/{id}.json',
        body: {
          ticket: {
            status: '{status}',
            comment: { body: '{comment}', public: '{public}' },
          },
        },
      },
      result: ({ body }) => ({ ticket: ticket(rec(body)['ticket']) }),
    },
    {
      action: 'delete_ticket',
      title: 'Delete a ticket',
      description: 'Deletes a ticket (it goes to the deleted-tickets view for 30 days).',
      annotations: DELETES,
      inputSchema: object({ id: ticketId }),
      outputSchema: object({ id: integer(), deleted: boolean() }),
      request: { method: 'DELETE', path: '/api/v2/tickets/{id}.json' },
      result: ({ args }) => ({ id: args['id'], deleted: true }),
    },
  ],
};
