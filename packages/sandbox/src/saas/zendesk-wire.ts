/**
 * Zendesk's JSON as the fake answers it: tickets, and the two pagination styles of list
 * endpoints (cursor: `page[size]`/`page[after]` with `meta` and `links`; offset: `page`,
 * `next_page`, `count`).
 */
import type { FakeReply, FakeRequest } from './fake-http.js';
import type { ZendeskTicket } from './zendesk-data.js';

/** A ticket in Zendesk's JSON. */
export const ticketJson = (t: ZendeskTicket, baseUrl: string) => ({
  url: `${baseUrl}/api/v2/tickets/${t.id}.json`,
  id: t.id,
  external_id: null,
  via: { channel: 'web', source: { from: {}, to: {}, rel: null } },
  created_at: t.created_at,
  updated_at: t.updated_at,
  type: t.type,
  subject: t.subject,
  raw_subject: t.subject,
  description: t.description,
  priority: t.priority,
  status: t.status,
  recipient: null,
  requester_id: t.requester_id,
  submitter_id: t.requester_id,
  assignee_id: t.assignee_id,
  organization_id: null,
  group_id: 360000001,
  collaborator_ids: [],
  follower_ids: [],
  email_cc_ids: [],
  has_incidents: false,
  is_public: true,
  due_at: null,
  tags: t.tags,
  custom_fields: [],
  satisfaction_rating: null,
  sharing_agreement_ids: [],
  allow_channelback: false,
  allow_attachments: true,
});

/** One cursor page of `items` (sorted by id), in the shape of tickets.json or search/export. */
export function cursorPage(
  req: FakeRequest,
  items: ZendeskTicket[],
  key: 'tickets' | 'results',
  extra: object,
): FakeReply {
  const size = Number(req.query.get('page[size]') ?? '100');
  if (!Number.isInteger(size) || size < 1 || size > 100) {
    return {
      status: 400,
      json: {
        error: 'InvalidPaginationParameter',
        description: 'page[size] must be an integer from 1 to 100',
      },
    };
  }
  const after = req.query.get('page[after]');
  let start = 0;
  if (after !== null) {
    const lastId = Number(Buffer.from(after, 'base64url').toString('utf8').replace(/^id:/, ''));
    if (!Number.isInteger(lastId)) {
      return {
        status: 400,
        json: { error: 'InvalidPaginationParameter', description: 'page[after] is invalid' },
      };
    }
    start = items.findIndex((t) => t.id > lastId);
    if (start < 0) start = items.length;
  }
  const page = items.slice(start, start + size);
  const hasMore = start + size < items.length;
  const cursorOf = (t: ZendeskTicket | undefined) =>
    t === undefined ? null : Buffer.from(`id:${t.id}`).toString('base64url');
  const afterCursor = cursorOf(page[page.length - 1]);
  const beforeCursor = cursorOf(items[start - 1]);
  const link = (param: string, cursor: string | null) => {
    if (cursor === null) return null;
    const url = new URL(req.path, req.baseUrl);
    for (const [k, v] of req.query) if (!k.startsWith('page[')) url.searchParams.append(k, v);
    url.searchParams.set('page[size]', String(size));
    url.searchParams.set(param, cursor);
    return url.toString();
  };
  return {
    status: 200,
    json: {
      [key]: page.map((t) => ({
        ...ticketJson(t, req.baseUrl),
        ...(key === 'results' ? { result_type: 'ticket' } : {}),
      })),
      ...extra,
      meta: { has_more: hasMore, after_cursor: afterCursor, before_cursor: beforeCursor },
      links: {
        prev: link('page[before]', beforeCursor),
        next: hasMore ? link('page[after]', afterCursor) : null,
      },
    },
  };
}

/** Zendesk's older offset pagination, answered when no `page[size]` is sent. */
export function offsetPage(req: FakeRequest, items: ZendeskTicket[]): FakeReply {
  const perPage = Math.min(100, Number(req.query.get('per_page') ?? '100') || 100);
  const page = Math.max(1, Number(req.query.get('page') ?? '1') || 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  const next =
    page * perPage < items.length
      ? `${req.baseUrl}${req.path}?page=${page + 1}&per_page=${perPage}`
      : null;
  return {
    status: 200,
    json: {
      tickets: slice.map((t) => ticketJson(t, req.baseUrl)),
      next_page: next,
      previous_page: null,
      count: items.length,
    },
  };
}
