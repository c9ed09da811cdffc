/**
 * A fake Zendesk Support API v2 for the endpoints the connector uses:
 * - `GET /api/v2/users/me.json` (anonymous user when no credentials are sent, like Zendesk);
 * - `GET /api/v2/tickets.json` with cursor pagination (`page[size]` ≤ 100, `page[after]`,
 *   `meta.has_more`/`after_cursor`, `links.next`) or offset pagination without `page[size]`;
 * - `GET /api/v2/search/export.json?query=…&filter[type]=ticket` (status/assignee terms);
 * - `GET|PUT|DELETE /api/v2/tickets/{id}.json`, `POST /api/v2/tickets.json`;
 * - `POST /oauth/tokens` (refresh-token grant, rotating refresh tokens).
 * Auth is Basic `{email}/token:{api_token}` or an OAuth bearer token; failures get Zendesk's
 * bodies (`{"error":"Couldn't authenticate you"}`, `invalid_token`, `RecordNotFound`…).
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
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';
import { seedTickets, seedUsers, type ZendeskTicket, type ZendeskUser } from './zendesk-data.js';
import { cursorPage, offsetPage, ticketJson } from './zendesk-wire.js';

/** Credentials the fake Zendesk accepts. */
export interface FakeZendeskOptions {
  readonly host?: string;
  readonly port?: number;
  /** The agent whose API token is accepted (Basic `{email}/token:{apiToken}`). */
  readonly email?: string;
  readonly apiToken?: string;
  /** The OAuth client and the refresh token it was granted. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  /** Lifetime of issued access tokens; default 2 hours. */
  readonly accessTokenTtlSeconds?: number;
}

/** Default credentials of the fake (demo values, not secrets). */
export const ZENDESK_DEFAULTS = {
  email: 'avery.agent@fortress-demo.example',
  apiToken: 'zd-demo-api-token-6f1c2a9e',
  clientId: 'fortress_gateway',
  clientSecret: 'zd-demo-client-secret-8b3d',
  refreshToken: 'zd-demo-refresh-token-2c7f',
} as const;

/** A running fake Zendesk. */
export interface FakeZendesk extends FakeSaasServer {
  readonly oauth: OAuthIssuer;
  /** The tickets as stored now (a live view). */
  readonly tickets: readonly ZendeskTicket[];
}

const STATUSES = ['new', 'open', 'pending', 'hold', 'solved', 'closed'];
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];

const NOT_AUTHENTICATED: FakeReply = {
  status: 401,
  json: { error: "Couldn't authenticate you" },
  headers: { 'www-authenticate': 'Basic realm="Web Password"' },
};
const INVALID_TOKEN: FakeReply = {
  status: 401,
  json: {
    error: 'invalid_token',
    error_description:
      'The access token provided is expired, revoked, malformed or invalid for other reasons.',
  },
  headers: { 'www-authenticate': 'Bearer realm="Web Password", error="invalid_token"' },
};
const NOT_FOUND: FakeReply = {
  status: 404,
  json: { error: 'RecordNotFound', description: 'Not found' },
};

function invalid(field: string, description: string, error = 'InvalidValue'): FakeReply {
  return {
    status: 422,
    json: {
      error: 'RecordInvalid',
      description: 'Record validation errors',
      details: { [field]: [{ description, error }] },
    },
  };
}

/** Starts a fake Zendesk on loopback. */
export async function startFakeZendesk(options: FakeZendeskOptions = {}): Promise<FakeZendesk> {
  const email = options.email ?? ZENDESK_DEFAULTS.email;
  const apiToken = options.apiToken ?? ZENDESK_DEFAULTS.apiToken;
  const oauth = createOAuthIssuer({
    clients: [
      {
        clientId: options.clientId ?? ZENDESK_DEFAULTS.clientId,
        clientSecret: options.clientSecret ?? ZENDESK_DEFAULTS.clientSecret,
      },
    ],
    refreshTokens: [options.refreshToken ?? ZENDESK_DEFAULTS.refreshToken],
    ttlSeconds: options.accessTokenTtlSeconds ?? 7200,
    rotate: true,
    prefix: 'zdat_',
  });
  const users: ZendeskUser[] = seedUsers(email);
  const tickets: ZendeskTicket[] = seedTickets();
  let nextId = tickets.length + 1;
  const apiUser = users[0] as ZendeskUser;

  /** Who the request authenticates as; a reply when it fails; `null` when it sent nothing. */
  function authenticate(req: FakeRequest): ZendeskUser | FakeReply | null {
    const basic = basicAuth(req);
    if (basic)
      return basic.user === `${email}/token` && basic.password === apiToken
        ? apiUser
        : NOT_AUTHENTICATED;
    const bearer = bearerToken(req);
    if (bearer !== undefined) return oauth.accepts(bearer) ? apiUser : INVALID_TOKEN;
    return req.headers['authorization'] ? NOT_AUTHENTICATED : null;
  }

  function authed(handler: (req: FakeRequest, user: ZendeskUser) => FakeReply) {
    return (req: FakeRequest): FakeReply => {
      const who = authenticate(req);
      if (who === null) return NOT_AUTHENTICATED;
      if ('status' in who) return who;
      return handler(req, who);
    };
  }

  function searchTickets(req: FakeRequest, user: ZendeskUser): FakeReply {
    if (req.query.get('filter[type]') !== 'ticket') {
      return {
        status: 400,
        json: {
          error: 'InvalidSearchParameter',
          description: 'filter[type] is required and must be ticket',
        },
      };
    }
    const query = req.query.get('query') ?? '';
    let matches = [...tickets];
    for (const term of query.match(/\w+:(?:"[^"]*"|\S+)/g) ?? []) {
      const [field, ...rest] = term.split(':');
      const value = rest.join(':').replace(/^"|"$/g, '');
      if (field === 'status') matches = matches.filter((t) => t.status === value);
      else if (field === 'assignee') {
        if (value === 'none') matches = matches.filter((t) => t.assignee_id === null);
        else {
          const wanted =
            value === 'me'
              ? user
              : users.find((u) => u.email === value || u.name === value || String(u.id) === value);
          matches = wanted === undefined ? [] : matches.filter((t) => t.assignee_id === wanted.id);
        }
      } else if (field !== 'type') {
        return {
          status: 400,
          json: {
            error: 'InvalidSearchParameter',
            description: `unsupported search term "${field}"`,
          },
        };
      }
    }
    return cursorPage(req, matches, 'results', { facets: null });
  }

  function findTicket(req: FakeRequest): ZendeskTicket | undefined {
    return tickets.find((t) => String(t.id) === req.params['id']);
  }

  function audit(t: ZendeskTicket, authorId: number) {
    return {
      id: Number(`${t.id}${Date.now() % 100000}`),
      ticket_id: t.id,
      created_at: t.updated_at,
      author_id: authorId,
      events: [],
    };
  }

  const routes = [
    route('GET', '/api/v2/users/me.json', (req) => {
      const who = authenticate(req);
      if (who !== null && 'status' in who) return who;
      if (who === null) {
        return {
          status: 200,
          json: {
            user: {
              id: null,
              url: null,
              name: 'Anonymous user',
              email: 'invalid@example.com',
              role: 'end-user',
            },
          },
        };
      }
      return {
        status: 200,
        json: {
          user: {
            id: who.id,
            url: `${req.baseUrl}/api/v2/users/${who.id}.json`,
            name: who.name,
            email: who.email,
            role: who.role,
            active: true,
            verified: true,
            time_zone: 'Europe/London',
          },
        },
      };
    }),
    route(
      'GET',
      '/api/v2/tickets.json',
      authed((req) =>
        req.query.has('page[size]')
          ? cursorPage(req, tickets, 'tickets', {})
          : offsetPage(req, tickets),
      ),
    ),
    route('GET', '/api/v2/search/export.json', authed(searchTickets)),
    route(
      'GET',
      '/api/v2/tickets/:id.json',
      authed((req) => {
        const t = findTicket(req);
        return t === undefined
          ? NOT_FOUND
          : { status: 200, json: { ticket: ticketJson(t, req.baseUrl) } };
      }),
    ),
    route(
      'POST',
      '/api/v2/tickets.json',
      authed((req, user) => {
        const input =
          (jsonBody(req) as { ticket?: Record<string, unknown> } | undefined)?.ticket ?? {};
        const comment = input['comment'] as { body?: unknown } | undefined;
        const body = typeof comment?.body === 'string' ? comment.body : '';
        if (body.trim() === '')
          return invalid('description', 'Description: cannot be blank', 'BlankValue');
        const priority = input['priority'];
        if (priority !== undefined && priority !== null && !PRIORITIES.includes(textOf(priority))) {
          return invalid('priority', `Priority: ${textOf(priority)} is not a valid priority`);
        }
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        const t: ZendeskTicket = {
          id: nextId++,
          subject:
            typeof input['subject'] === 'string' && input['subject'] !== ''
              ? input['subject']
              : body.slice(0, 50),
          description: body,
          status: 'new',
          priority: (priority as ZendeskTicket['priority']) ?? null,
          type: null,
          requester_id: user.id,
          assignee_id: null,
          tags: [],
          created_at: now,
          updated_at: now,
          comments: [{ author_id: user.id, body, public: true, created_at: now }],
        };
        tickets.push(t);
        return {
          status: 201,
          json: { ticket: ticketJson(t, req.baseUrl), audit: audit(t, user.id) },
          headers: { location: `${req.baseUrl}/api/v2/tickets/${t.id}.json` },
        };
      }),
    ),
    route(
      'PUT',
      '/api/v2/tickets/:id.json',
      authed((req, user) => {
        const t = findTicket(req);
        if (t === undefined) return NOT_FOUND;
        if (t.status === 'closed')
          return invalid('status', 'Status: closed prevents ticket update');
        const input =
          (jsonBody(req) as { ticket?: Record<string, unknown> } | undefined)?.ticket ?? {};
        const status = input['status'];
        if (status !== undefined && !STATUSES.includes(textOf(status))) {
          return invalid('status', `Status: ${textOf(status)} is not a valid status`);
        }
        const comment = input['comment'] as { body?: unknown; public?: unknown } | undefined;
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        if (typeof comment?.body === 'string' && comment.body.trim() !== '') {
          t.comments.push({
            author_id: user.id,
            body: comment.body,
            public: comment.public !== false,
            created_at: now,
          });
        }
        if (status !== undefined) t.status = status as ZendeskTicket['status'];
        t.updated_at = now;
        return {
          status: 200,
          json: { ticket: ticketJson(t, req.baseUrl), audit: audit(t, user.id) },
        };
      }),
    ),
    route(
      'DELETE',
      '/api/v2/tickets/:id.json',
      authed((req) => {
        const t = findTicket(req);
        if (t === undefined) return NOT_FOUND;
        tickets.splice(tickets.indexOf(t), 1);
        return { status: 204 };
      }),
    ),
    route('POST', '/oauth/tokens', (req) => {
      const fields = fieldsOf(req);
      if (fields['grant_type'] !== 'refresh_token') {
        return {
          status: 400,
          json: {
            error: 'unsupported_grant_type',
            error_description:
              'The authorization grant type is not supported by the authorization server.',
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
          ? {
              status: 401,
              json: {
                error: 'invalid_client',
                error_description:
                  'Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.',
              },
            }
          : {
              status: 400,
              json: {
                error: 'invalid_grant',
                error_description:
                  'The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.',
              },
            };
      }
      return {
        status: 200,
        json: {
          access_token: result.accessToken,
          refresh_token: result.refreshToken,
          token_type: 'bearer',
          scope: 'read write',
          expires_in: result.expiresIn,
          refresh_token_expires_in: 2_592_000,
        },
      };
    }),
  ];

  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes,
    notFound: () => ({ status: 404, json: { error: 'InvalidEndpoint', description: 'Not found' } }),
    unavailable: { status: 503, text: 'Service Unavailable', headers: { 'retry-after': '30' } },
    headers: () => ({
      'x-zendesk-api-version': 'v2',
      'x-request-id': randomBytes(8).toString('hex'),
    }),
  });
  return { ...server, oauth, tickets };
}
