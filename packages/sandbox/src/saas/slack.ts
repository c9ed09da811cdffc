/**
 * A fake Slack Web API for the methods the connector uses: `auth.test`,
 * `conversations.list`, `conversations.history`, `chat.postMessage` and `oauth.v2.access`
 * (token rotation). Like Slack, every answer is HTTP 200 with `"ok"`; failures are
 * `{"ok":false,"error":"channel_not_found"}` (`not_authed`, `invalid_auth`, `token_expired`,
 * `not_in_channel`, `is_archived`, `invalid_cursor`…). Lists page with
 * `response_metadata.next_cursor`. Tokens: a fixed bot token, or rotating tokens from a
 * refresh token.
 */
import { randomBytes } from 'node:crypto';
import {
  basicAuth,
  bearerToken,
  fieldsOf,
  route,
  startFakeServer,
  type FakeReply,
  type FakeRequest,
  type FakeSaasServer,
  type Handler,
} from './fake-http.js';
import { createOAuthIssuer, type OAuthIssuer } from './oauth-issuer.js';
import { SLACK_TEAM, seedChannels, type SlackChannel, type SlackMessage } from './slack-data.js';

/** Options of the fake Slack. */
export interface FakeSlackOptions {
  readonly host?: string;
  readonly port?: number;
  /** The bot token (`xoxb-…`) accepted as is. */
  readonly botToken?: string;
  /** The app's client and a refresh token for token rotation. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly refreshToken?: string;
  /** Lifetime of rotated tokens; default 12 hours, like Slack. */
  readonly accessTokenTtlSeconds?: number;
}

/** Default credentials of the fake (demo values, not secrets). */
export const SLACK_DEFAULTS = {
  botToken: 'xoxb-1000000001-2000000002-fortressdemobot',
  clientId: '1000000001.3000000003',
  clientSecret: 'slack-demo-client-secret-4e9a',
  refreshToken: 'xoxe-1-fortress-demo-refresh',
} as const;

/** A running fake Slack. */
export interface FakeSlack extends FakeSaasServer {
  readonly oauth: OAuthIssuer;
  readonly channels: readonly SlackChannel[];
}

const ok = (json: object): FakeReply => ({ status: 200, json: { ok: true, ...json } });
const fail = (error: string, extra: object = {}): FakeReply => ({
  status: 200,
  json: { ok: false, error, ...extra },
});

function cursorOf(index: number): string {
  return Buffer.from(`next:${index}`).toString('base64');
}

function indexOf(cursor: string | null): number | undefined {
  if (cursor === null || cursor === '') return 0;
  const match = /^next:(\d+)$/.exec(Buffer.from(cursor, 'base64').toString('utf8'));
  return match ? Number(match[1]) : undefined;
}

/** Starts a fake Slack on loopback. */
export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const botToken = options.botToken ?? SLACK_DEFAULTS.botToken;
  const oauth = createOAuthIssuer({
    clients: [
      {
        clientId: options.clientId ?? SLACK_DEFAULTS.clientId,
        clientSecret: options.clientSecret ?? SLACK_DEFAULTS.clientSecret,
      },
    ],
    refreshTokens: [options.refreshToken ?? SLACK_DEFAULTS.refreshToken],
    ttlSeconds: options.accessTokenTtlSeconds ?? 43_200,
    rotate: true,
    prefix: 'xoxe.xoxb-1-',
  });
  const channels = seedChannels();
  let clock = 1_741_100_000;

  /** Token check: `undefined` when the call may go on, else Slack's error. */
  function checkAuth(req: FakeRequest, params: Record<string, string>): FakeReply | undefined {
    const token = bearerToken(req) ?? params['token'];
    if (token === undefined || token === '') return fail('not_authed');
    if (token === botToken || oauth.accepts(token)) return undefined;
    return oauth.knows(token) ? fail('token_expired') : fail('invalid_auth');
  }

  /** Body fields (JSON or form) merged over query parameters, as Slack reads arguments. */
  function paramsOf(req: FakeRequest): Record<string, string> {
    return { ...Object.fromEntries(req.query), ...(req.body.length > 0 ? fieldsOf(req) : {}) };
  }

  /** A Web API method: arguments read, token checked, then the handler. */
  function method(
    handler: (params: Record<string, string>, req: FakeRequest) => FakeReply,
  ): Handler {
    return (req) => {
      const params = paramsOf(req);
      return checkAuth(req, params) ?? handler(params, req);
    };
  }

  function findChannel(ref: string | undefined): SlackChannel | undefined {
    if (ref === undefined) return undefined;
    const name = ref.replace(/^#/, '');
    return channels.find((c) => c.id === ref || c.name === name);
  }

  function visible(c: SlackChannel): boolean {
    return !c.is_private || c.bot_member;
  }

  function channelJson(c: SlackChannel) {
    return {
      id: c.id,
      name: c.name,
      is_channel: !c.is_private,
      is_group: c.is_private,
      is_im: false,
      is_mpim: false,
      is_private: c.is_private,
      created: c.created,
      is_archived: c.is_archived,
      is_general: c.name === 'general',
      is_member: c.bot_member,
      name_normalized: c.name,
      creator: 'U0JANEROE1',
      topic: {
        value: c.topic,
        creator: c.topic ? 'U0JANEROE1' : '',
        last_set: c.topic ? c.created : 0,
      },
      purpose: {
        value: c.purpose,
        creator: c.purpose ? 'U0JANEROE1' : '',
        last_set: c.purpose ? c.created : 0,
      },
      num_members: c.num_members,
    };
  }

  function page<T>(items: T[], params: Record<string, string>, max: number) {
    const start = indexOf(params['cursor'] ?? null);
    if (start === undefined) return undefined;
    const limit = Math.min(max, Math.max(1, Number(params['limit'] ?? '100') || 100));
    const slice = items.slice(start, start + limit);
    const next = start + limit < items.length ? cursorOf(start + limit) : '';
    return { slice, next };
  }

  const authTest = method((_params, req) =>
    ok({
      url: `${req.baseUrl}/`,
      team: SLACK_TEAM.name,
      user: 'fortress-bot',
      team_id: SLACK_TEAM.id,
      user_id: SLACK_TEAM.botUserId,
      bot_id: SLACK_TEAM.botId,
      is_enterprise_install: false,
    }),
  );

  const conversationsList = method((params) => {
    const types = (params['types'] ?? 'public_channel').split(',');
    const excludeArchived =
      params['exclude_archived'] === 'true' || params['exclude_archived'] === '1';
    const matching = channels.filter(
      (c) =>
        visible(c) &&
        (c.is_private ? types.includes('private_channel') : types.includes('public_channel')) &&
        !(excludeArchived && c.is_archived),
    );
    const p = page(matching, params, 1000);
    if (p === undefined) return fail('invalid_cursor');
    return ok({ channels: p.slice.map(channelJson), response_metadata: { next_cursor: p.next } });
  });

  const conversationsHistory = method((params) => {
    const c = findChannel(params['channel']);
    if (c === undefined || !visible(c) || params['channel']?.startsWith('#'))
      return fail('channel_not_found');
    if (!c.bot_member) return fail('not_in_channel');
    const oldest = Number(params['oldest'] ?? '0');
    const latest = params['latest'] === undefined ? Infinity : Number(params['latest']);
    // Thread replies stay out of the channel history, as in Slack; thread parents stay in.
    const inRange = c.messages.filter(
      (m) =>
        (m.thread_ts === undefined || m.thread_ts === m.ts) &&
        Number(m.ts) > oldest &&
        Number(m.ts) < latest,
    );
    const p = page(inRange, params, 999);
    if (p === undefined) return fail('invalid_cursor');
    return ok({
      messages: p.slice.map((m) => ({ type: 'message', ...m })),
      has_more: p.next !== '',
      pin_count: 0,
      channel_actions_ts: null,
      channel_actions_count: 0,
      response_metadata: { next_cursor: p.next },
    });
  });

  const postMessage = method((params) => {
    const c = findChannel(params['channel']);
    if (c === undefined || !visible(c)) return fail('channel_not_found');
    if (c.is_archived) return fail('is_archived');
    if (!c.bot_member) return fail('not_in_channel');
    const text = params['text'] ?? '';
    if (text.trim() === '') return fail('no_text');
    clock += 1;
    const message: SlackMessage = {
      ts: `${clock}.${String(clock % 1_000_000).padStart(6, '0')}`,
      bot_id: SLACK_TEAM.botId,
      user: SLACK_TEAM.botUserId,
      text,
    };
    const threadTs = params['thread_ts'];
    if (threadTs !== undefined && threadTs !== '') {
      const parent = c.messages.find((m) => m.ts === threadTs);
      if (parent === undefined) return fail('thread_not_found');
      parent.thread_ts = parent.ts;
      parent.reply_count = (parent.reply_count ?? 0) + 1;
      message.thread_ts = threadTs;
    }
    c.messages.unshift(message);
    return ok({
      channel: c.id,
      ts: message.ts,
      message: {
        type: 'message',
        subtype: 'bot_message',
        app_id: SLACK_TEAM.appId,
        team: SLACK_TEAM.id,
        ...message,
      },
    });
  });

  const tokenRotation: Handler = (req) => {
    const params = paramsOf(req);
    const basic = basicAuth(req);
    const clientId = basic?.user ?? params['client_id'] ?? '';
    const clientSecret = basic?.password ?? params['client_secret'] ?? '';
    if (params['grant_type'] !== 'refresh_token') return fail('unsupported_grant_type');
    if (!oauth.clientValid(clientId, clientSecret))
      return fail(clientId === '' ? 'invalid_client_id' : 'bad_client_secret');
    const result = oauth.refresh(clientId, clientSecret, params['refresh_token'] ?? '');
    if (!result.ok) return fail('invalid_refresh_token');
    return ok({
      app_id: SLACK_TEAM.appId,
      authed_user: { id: 'U0JANEROE1' },
      scope: 'channels:read,channels:history,groups:read,groups:history,chat:write',
      token_type: 'bot',
      access_token: result.accessToken,
      bot_user_id: SLACK_TEAM.botUserId,
      refresh_token: result.refreshToken,
      expires_in: result.expiresIn,
      team: { id: SLACK_TEAM.id, name: SLACK_TEAM.name },
      enterprise: null,
      is_enterprise_install: false,
    });
  };

  const both = (path: string, handler: Handler) => [
    route('GET', path, handler),
    route('POST', path, handler),
  ];
  const server = await startFakeServer({
    ...(options.host === undefined ? {} : { host: options.host }),
    ...(options.port === undefined ? {} : { port: options.port }),
    routes: [
      ...both('/api/auth.test', authTest),
      ...both('/api/conversations.list', conversationsList),
      ...both('/api/conversations.history', conversationsHistory),
      ...both('/api/chat.postMessage', postMessage),
      ...both('/api/oauth.v2.access', tokenRotation),
    ],
    notFound: (req) =>
      req.path.startsWith('/api/') ? fail('unknown_method') : { status: 404, text: 'Not Found' },
    unavailable: { status: 503, text: 'Service Unavailable', headers: { 'retry-after': '10' } },
    headers: () => ({
      'x-slack-req-id': randomBytes(16).toString('hex'),
      'x-oauth-scopes': 'channels:read,channels:history,groups:read,groups:history,chat:write',
    }),
  });
  return { ...server, oauth, channels };
}
