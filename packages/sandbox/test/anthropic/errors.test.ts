import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import type { APIError } from '@anthropic-ai/sdk';
import { KEY, MODEL, messageBody, rawFetch, startSandbox, type Sandbox } from './helpers.js';

type ErrorClass = abstract new (...args: never[]) => APIError;

interface TriggerCase {
  readonly name: string;
  readonly magic: string;
  readonly status: number;
  readonly type: string;
  /** The most specific class the SDK raises for this status. */
  readonly errorClass: ErrorClass;
}

const TRIGGERS: readonly TriggerCase[] = [
  {
    name: 'rate limit',
    magic: 'FAKE_RATE_LIMIT',
    status: 429,
    type: 'rate_limit_error',
    errorClass: Anthropic.RateLimitError,
  },
  {
    name: 'overloaded',
    magic: 'FAKE_OVERLOADED',
    status: 529,
    type: 'overloaded_error',
    errorClass: Anthropic.OverloadedError,
  },
  {
    name: 'api error',
    magic: 'FAKE_API_ERROR',
    status: 500,
    type: 'api_error',
    errorClass: Anthropic.InternalServerError,
  },
  {
    name: 'invalid request',
    magic: 'FAKE_INVALID_REQUEST',
    status: 400,
    type: 'invalid_request_error',
    errorClass: Anthropic.BadRequestError,
  },
  {
    name: 'permission denied',
    magic: 'FAKE_PERMISSION_DENIED',
    status: 403,
    type: 'permission_error',
    errorClass: Anthropic.PermissionDeniedError,
  },
  {
    name: 'request too large',
    magic: 'FAKE_REQUEST_TOO_LARGE',
    status: 413,
    type: 'request_too_large',
    errorClass: Anthropic.ContentTooLargeError,
  },
  {
    name: 'mid-stream overload on a non-streaming call',
    magic: 'FAKE_OVERLOADED_MIDSTREAM',
    status: 529,
    type: 'overloaded_error',
    errorClass: Anthropic.OverloadedError,
  },
];

describe('fake anthropic: errors', () => {
  let sandbox: Sandbox;
  before(async () => {
    sandbox = await startSandbox();
  });
  after(() => sandbox.fake.close());

  for (const c of TRIGGERS) {
    it(`raises ${c.errorClass.name} (${c.status} ${c.type}) for ${c.name}`, async () => {
      const err = await sandbox.client.messages
        .create({
          model: MODEL,
          max_tokens: 32,
          messages: [{ role: 'user', content: `please ${c.magic} now` }],
        })
        .then(
          () => assert.fail('expected the call to fail'),
          (e: unknown) => e,
        );
      assert.ok(err instanceof c.errorClass, `got ${String(err)}`);
      assert.equal(err.status, c.status);
      assert.equal(err.type, c.type);
      assert.match(err.requestID ?? '', /^req_011C/);
      assert.deepEqual(Object.keys(err.error ?? {}), ['type', 'error', 'request_id']);
      assert.equal((err.error as { request_id: string }).request_id, err.requestID);
      assert.ok(
        err.headers?.get('anthropic-ratelimit-requests-limit'),
        'messages errors carry rate-limit headers',
      );
    });
  }

  it('classifies 529 as OverloadedError, a subclass of InternalServerError', async () => {
    const err = await sandbox.client.messages
      .create({
        model: MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'FAKE_OVERLOADED' }],
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.InternalServerError);
    assert.equal(err.apiMessage, 'Overloaded');
  });

  it('sends retry-after and exhausted request headers with the 429', async () => {
    const err = await sandbox.client.messages
      .create({
        model: MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'FAKE_RATE_LIMIT' }],
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.RateLimitError);
    assert.equal(err.headers.get('retry-after'), '7');
    assert.equal(err.headers.get('anthropic-ratelimit-requests-remaining'), '0');
  });

  it('ignores a magic string that only appears in an earlier turn', async () => {
    const message = await sandbox.client.messages.create({
      model: MODEL,
      max_tokens: 64,
      messages: [
        { role: 'user', content: 'FAKE_API_ERROR' },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'fine now' },
      ],
    });
    assert.equal(message.stop_reason, 'end_turn');
  });

  it('rejects an unknown key with AuthenticationError and the real envelope', async () => {
    const client = new Anthropic({
      apiKey: 'sk-ant-wrong',
      baseURL: sandbox.fake.url,
      maxRetries: 0,
    });
    const err = await client.models.list().catch((e: unknown) => e);
    assert.ok(err instanceof Anthropic.AuthenticationError);
    assert.equal(err.status, 401);
    assert.deepEqual(err.error, {
      type: 'error',
      error: { type: 'authentication_error', message: 'invalid x-api-key' },
      request_id: err.requestID,
    });
  });

  const authCases: ReadonlyArray<{
    name: string;
    headers: Record<string, string | undefined>;
    status: number;
  }> = [
    { name: 'x-api-key', headers: { 'x-api-key': KEY }, status: 200 },
    {
      name: 'Authorization: Bearer',
      headers: { 'x-api-key': undefined, authorization: `Bearer ${KEY}` },
      status: 200,
    },
    { name: 'no key at all', headers: { 'x-api-key': undefined }, status: 401 },
    { name: 'a wrong x-api-key', headers: { 'x-api-key': 'nope' }, status: 401 },
    {
      name: 'a Basic authorization',
      headers: { 'x-api-key': undefined, authorization: `Basic ${KEY}` },
      status: 401,
    },
  ];
  for (const c of authCases) {
    it(`answers ${c.status} to a raw request with ${c.name}`, async () => {
      const res = await rawFetch(sandbox.fake, '/v1/messages/count_tokens', {
        body: messageBody('hi'),
        headers: c.headers,
      });
      assert.equal(res.status, c.status);
      assert.match(res.headers.get('request-id') ?? '', /^req_/);
      if (c.status === 401) {
        const body = (await res.json()) as { error: { type: string } };
        assert.equal(body.error.type, 'authentication_error');
      }
    });
  }

  it('requires the anthropic-version header', async () => {
    const res = await rawFetch(sandbox.fake, '/v1/models', {
      headers: { 'anthropic-version': undefined },
    });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { type: string; message: string } };
    assert.deepEqual(body.error, {
      type: 'invalid_request_error',
      message: 'anthropic-version: header is required',
    });
  });

  it('answers unknown paths with 404 not_found_error and wrong methods with 405', async () => {
    const missing = await rawFetch(sandbox.fake, '/v1/completions-ish', { body: {} });
    assert.equal(missing.status, 404);
    assert.deepEqual(((await missing.json()) as { error: unknown }).error, {
      type: 'not_found_error',
      message: 'Not Found',
    });
    const wrongMethod = await rawFetch(sandbox.fake, '/v1/messages');
    assert.equal(wrongMethod.status, 405);
  });

  it('answers a body over maxBodyBytes with 413 request_too_large', async () => {
    const small = await startSandbox({ maxBodyBytes: 1024 });
    try {
      const err = await small.client.messages
        .create({
          model: MODEL,
          max_tokens: 8,
          messages: [{ role: 'user', content: 'x'.repeat(4096) }],
        })
        .catch((e: unknown) => e);
      assert.ok(err instanceof Anthropic.ContentTooLargeError);
      assert.equal(err.type, 'request_too_large');
      assert.equal(small.fake.requests[0]?.body.length, 0, 'an oversized body is not kept');
    } finally {
      await small.fake.close();
    }
  });
});
