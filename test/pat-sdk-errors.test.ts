import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  ALLOWED_MODEL,
  DENIED_MODEL,
  MAX_BODY_BYTES,
  useStack,
  type TestStack,
} from './support/stack.js';

/** What the official SDK must raise for one failure, and how often it may try. */
interface ErrorCase {
  name: string;
  /** Sets up an org (or not) and returns the client and the request to send. */
  arrange(stack: TestStack): Promise<{ client: Anthropic; params: Record<string, unknown> }>;
  /** The exception class (any constructor whose instances are APIErrors). */
  errorClass: abstract new (...args: never[]) => InstanceType<typeof Anthropic.APIError>;
  status: number;
  /** The `error.type` of Anthropic's envelope. */
  type: string;
  /** With maxRetries 2: how many times the request reaches the edge (1: a hard stop). */
  attempts: 1 | 3;
  /** The request reaches the upstream (an upstream error passed through). */
  upstream: boolean;
}

const hello = (content = 'hello') => ({
  model: ALLOWED_MODEL,
  max_tokens: 16,
  messages: [{ role: 'user', content }],
});

const sdk = (stack: TestStack, apiKey: string, maxRetries = 2) =>
  new Anthropic({ apiKey, baseURL: stack.edgeUrl, maxRetries });

const seeded = async (stack: TestStack) => (await stack.seed({ allowedModels: ['*'] })).orgKey;

const CASES: ErrorCase[] = [
  {
    name: 'an unknown org key',
    arrange: (stack) =>
      Promise.resolve({ client: sdk(stack, `fk_live_${'x'.repeat(40)}`), params: hello() }),
    errorClass: Anthropic.AuthenticationError,
    status: 401,
    type: 'authentication_error',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'a body without a model',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: { max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] },
    }),
    errorClass: Anthropic.BadRequestError,
    status: 400,
    type: 'invalid_request_error',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'a model the role may not use',
    arrange: async (stack) => ({
      client: sdk(stack, (await stack.seed()).orgKey),
      params: { ...hello(), model: DENIED_MODEL },
    }),
    errorClass: Anthropic.PermissionDeniedError,
    status: 403,
    type: 'policy_denied',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'a body over the size limit',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: hello('x'.repeat(MAX_BODY_BYTES + 1)),
    }),
    errorClass: Anthropic.APIError,
    status: 413,
    type: 'request_too_large',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'a spent cap (a hard stop: x-should-retry false)',
    arrange: async (stack) => {
      const org = await stack.seed({ allowedModels: ['*'] });
      await stack.operator.policyAdmin.putPatLimits({
        orgId: org.orgId,
        actorId: 'usr_admin',
        limits: { patKeyId: org.patKeyId, monthlySpendCapMicrousd: 1n },
      });
      return { client: sdk(stack, org.orgKey), params: hello() };
    },
    errorClass: Anthropic.PermissionDeniedError,
    status: 403,
    type: 'policy_denied',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'a rate limit of the policy, with retry-after',
    arrange: async (stack) => {
      const org = await stack.seed({ allowedModels: ['*'] });
      await stack.operator.policyAdmin.putRule({
        orgId: org.orgId,
        actorId: 'usr_admin',
        rule: {
          id: 'none-per-hour',
          scopeType: 'org',
          condition: { case: 'rateLimit', value: { limit: 1, windowSeconds: 3600, per: 'user' } },
        },
      });
      // Today's SDK waits out any retry-after it is given (here: the rest of the hour), so
      // this client does not retry; the header is what the test checks.
      const client = sdk(stack, org.orgKey, 0);
      await client.messages.create(hello() as never);
      return { client, params: hello() };
    },
    errorClass: Anthropic.RateLimitError,
    status: 429,
    type: 'rate_limit_error',
    attempts: 1,
    upstream: false,
  },
  {
    name: 'an upstream invalid_request_error, passed through',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: hello('FAKE_INVALID_REQUEST'),
    }),
    errorClass: Anthropic.BadRequestError,
    status: 400,
    type: 'invalid_request_error',
    attempts: 1,
    upstream: true,
  },
  {
    name: 'an upstream permission_error, passed through',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: hello('FAKE_PERMISSION_DENIED'),
    }),
    errorClass: Anthropic.PermissionDeniedError,
    status: 403,
    type: 'permission_error',
    attempts: 1,
    upstream: true,
  },
  {
    name: 'an upstream api_error, passed through and retried by the SDK',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: hello('FAKE_API_ERROR'),
    }),
    errorClass: Anthropic.InternalServerError,
    status: 500,
    type: 'api_error',
    attempts: 3,
    upstream: true,
  },
  {
    name: 'an upstream overloaded_error (529), passed through and retried by the SDK',
    arrange: async (stack) => ({
      client: sdk(stack, await seeded(stack)),
      params: hello('FAKE_OVERLOADED'),
    }),
    errorClass: Anthropic.InternalServerError,
    status: 529,
    type: 'overloaded_error',
    attempts: 3,
    upstream: true,
  },
];

describe('PAT errors through the official SDK: the right exception class, envelope and retries', function () {
  this.timeout(120_000);
  let stack: TestStack;
  before(async () => {
    stack = await useStack();
  });

  for (const c of CASES) {
    it(`raises ${c.errorClass.name} (${c.status} ${c.type}) for ${c.name}`, async () => {
      const { client, params } = await c.arrange(stack);
      const seen = stack.sandbox.requests.length;
      let edgeHits = 0;
      const counting = client.withOptions({
        fetch: (url: string | URL | Request, init?: RequestInit) => {
          edgeHits += 1;
          return fetch(url, init);
        },
      });
      const err = await counting.messages.create(params as never).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(err instanceof c.errorClass, `${String(err)}`);
      assert.equal(err.status, c.status);
      const body = err.error as { type?: string; error?: { type?: string; code?: number } };
      assert.equal(body.type, 'error');
      assert.equal(body.error?.type, c.type);
      if (c.type === 'policy_denied') assert.equal(body.error?.code, 403);
      assert.match(err.headers?.get('x-fortress-request-id') ?? '', /^req_/);
      assert.equal(edgeHits, c.attempts, 'attempts the SDK made');
      const upstreamCalls = stack.sandbox.requests.length - seen;
      assert.equal(upstreamCalls > 0, c.upstream, `${upstreamCalls} upstream calls`);
      if (c.name.includes('hard stop')) assert.equal(err.headers?.get('x-should-retry'), 'false');
      if (c.status === 429) {
        const wait = Number(err.headers?.get('retry-after'));
        assert.ok(wait > 0 && wait <= 3600, `retry-after ${wait}`);
      }
    });
  }

  it('raises APIError from the stream iterator for an event: error after a 200', async () => {
    const client = sdk(stack, await seeded(stack));
    const stream = await client.messages.create({
      ...hello('FAKE_OVERLOADED_MIDSTREAM'),
      stream: true,
    } as never);
    const types: string[] = [];
    const err = await (async () => {
      for await (const event of stream as unknown as AsyncIterable<{ type: string }>)
        types.push(event.type);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof Anthropic.APIError, String(err));
    assert.ok(types.includes('message_start'), 'events before the error were delivered');
    assert.match(String(err.message), /overloaded/i);
  });
});
