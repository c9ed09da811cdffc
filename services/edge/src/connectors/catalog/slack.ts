/**
 * Slack Web API (https://slack.com/api/<method>). Every answer is HTTP 200 with `"ok"`;
 * failures are `{"ok":false,"error":"channel_not_found"}`. Lists page with a cursor in
 * `response_metadata.next_cursor`. Auth: a bot token (`xoxb-…`) as Bearer, or a rotating
 * token refreshed at `oauth.v2.access` (Slack token rotation).
 */
import { bool, int, rec, str, text } from '../json-values.js';
import {
  array,
  boolean,
  enumOf,
  integer,
  limitArg,
  listOutput,
  nullableInteger,
  nullableString,
  object,
  string,
} from '../schema-kit.js';
import type { ConnectorDefinition, JsonSchema } from '../types.js';
import { CREATES, READS } from './hints.js';

/** Error codes that mean the token itself is not accepted. */
const AUTH_ERRORS = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'token_revoked',
  'token_expired',
]);

const channelSchema: JsonSchema = object({
  id: string(),
  name: string(),
  is_private: boolean(),
  is_archived: boolean(),
  topic: string(),
  purpose: string(),
  num_members: nullableInteger(),
  created: nullableInteger('Unix time.'),
});

function channel(value: unknown): Record<string, unknown> {
  const c = rec(value);
  return {
    id: text(c['id']),
    name: text(c['name']),
    is_private: bool(c['is_private']),
    is_archived: bool(c['is_archived']),
    topic: text(rec(c['topic'])['value']),
    purpose: text(rec(c['purpose'])['value']),
    num_members: int(c['num_members']),
    created: int(c['created']),
  };
}

const messageSchema: JsonSchema = object({
  ts: string('The message timestamp, which is also its id.'),
  user: nullableString(),
  bot_id: nullableString(),
  text: string(),
  thread_ts: nullableString(),
  reply_count: integer(),
});

function message(value: unknown): Record<string, unknown> {
  const m = rec(value);
  return {
    ts: text(m['ts']),
    user: str(m['user']),
    bot_id: str(m['bot_id']),
    text: text(m['text']),
    thread_ts: str(m['thread_ts']),
    reply_count: int(m['reply_count']) ?? 0,
  };
}

const channelArg = string('A channel id (e.g. C024BE91L) or #name.', {
  pattern: '^#?[A-Za-z0-9._-]{1,80}$',
});

const channelIdArg = string('A channel id, e.g. C024BE91L (list_channels gives them).', {
  pattern: '^[CGD][A-Z0-9]{6,20}$',
});

/** The Slack connector. */
export const slack: ConnectorDefinition = {
  type: 'slack',
  title: 'Slack',
  description: 'Slack channels and messages: list channels, read history, post messages.',
  baseUrlHint: 'https://slack.com',
  defaultBaseUrl: 'https://slack.com',
  settings: [
    {
      name: 'tokenUrl',
      description: 'Token rotation endpoint; default {baseUrl}/api/oauth.v2.access.',
      required: false,
    },
  ],
  auth: {
    api_key: { scheme: 'bearer' },
    oauth2: {
      scheme: 'oauth2_refresh',
      tokenUrl: '{baseUrl}/api/oauth.v2.access',
      clientAuth: 'body',
      encoding: 'form',
    },
  },
  pagination: {
    style: 'cursor',
    sizeParam: 'limit',
    maxPageSize: 200,
    cursorParam: 'cursor',
    cursorPath: ['response_metadata', 'next_cursor'],
  },
  errors: {
    message: (body) => {
      const b = rec(body);
      const code = str(b['error']);
      if (code === null) return typeof body === 'string' ? body.trim() || undefined : undefined;
      const needed = str(b['needed']);
      return needed === null ? code : `${code} (needed: ${needed})`;
    },
    failedDespiteStatus: (body) => rec(body)['ok'] === false,
    authFailure: (status, body) => status === 401 || AUTH_ERRORS.has(text(rec(body)['error'])),
  },
  testConnection: { request: { method: 'POST', path: '/api/auth.test' } },
  tools: [
    {
      action: 'list_channels',
      title: 'List channels',
      description: 'Lists the workspace channels the token can see.',
      annotations: READS,
      inputSchema: object(
        {
          types: array(
            enumOf(['public_channel', 'private_channel', 'mpim', 'im']),
            'Channel kinds.',
            {
              minItems: 1,
              uniqueItems: true,
              default: ['public_channel'],
            },
          ),
          exclude_archived: boolean('Leave archived channels out.', { default: true }),
          limit: limitArg(100, 1000),
        },
        [],
      ),
      outputSchema: listOutput('channels', channelSchema),
      request: {
        method: 'GET',
        path: '/api/conversations.list',
        query: { types: '{types}', exclude_archived: '{exclude_archived}' },
      },
      list: { itemsAt: [['channels']] },
      result: ({ items, hasMore }) => ({
        channels: items.map(channel),
        count: items.length,
        has_more: hasMore,
      }),
    },
    {
      action: 'post_message',
      title: 'Post a message',
      description: 'Posts a message to a channel, or as a reply in a thread.',
      annotations: CREATES,
      inputSchema: object(
        {
          channel: channelArg,
          text: string('The message (Slack mrkdwn).', { minLength: 1, maxLength: 40_000 }),
          thread_ts: string('Reply in the thread of this message.', { pattern: '^\\d+\\.\\d+$' }),
        },
        ['channel', 'text'],
      ),
      outputSchema: object({ channel: string(), ts: string(), message: messageSchema }),
      request: {
        method: 'POST',
        path: '/api/chat.postMessage',
        body: { channel: '{channel}', text: '{text}', thread_ts: '{thread_ts}' },
      },
      result: ({ body }) => {
        const b = rec(body);
        return { channel: text(b['channel']), ts: text(b['ts']), message: message(b['message']) };
      },
    },
    {
      action: 'get_channel_history',
      title: 'Read channel history',
      description: 'Reads the latest messages of a channel, newest first.',
      annotations: READS,
      inputSchema: object(
        {
          channel: channelIdArg,
          oldest: string('Only messages after this timestamp.', { pattern: '^\\d+(\\.\\d+)?$' }),
          latest: string('Only messages before this timestamp.', { pattern: '^\\d+(\\.\\d+)?$' }),
          limit: limitArg(20, 1000),
        },
        ['channel'],
      ),
      outputSchema: listOutput('messages', messageSchema),
      request: {
        method: 'GET',
        path: '/api/conversations.history',
        query: { channel: '{channel}', oldest: '{oldest}', latest: '{latest}' },
      },
      list: { itemsAt: [['messages']] },
      result: ({ items, hasMore }) => ({
        messages: items.map(message),
        count: items.length,
        has_more: hasMore,
      }),
    },
  ],
};
