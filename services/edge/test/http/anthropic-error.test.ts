import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Anthropic from '@anthropic-ai/sdk';
import { errors, sendAnthropicError, type AnthropicError } from '../../src/http/anthropic-error.js';
import { send, startServer } from '../support/http-server.js';

const REQUEST_ID = 'req_f0rtress1';

describe('sendAnthropicError', () => {
  // The handler for the next request; each test sets it.
  let respond: (req: IncomingMessage, res: ServerResponse) => void = () => undefined;
  let server: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    server = await startServer((req, res) => {
      req.resume();
      respond(req, res);
    });
  });
  after(() => server.close());

  it('writes the Anthropic error envelope with its status, length and request id', async () => {
    respond = (_req, res) =>
      sendAnthropicError(
        res,
        REQUEST_ID,
        errors.policyDenied('model "claude-opus-4-1" is denied for your role'),
      );
    const seen = await send(server.port, {}, (req) => req.end());
    assert.equal(seen.status, 403);
    assert.equal(seen.headers?.['content-type'], 'application/json');
    assert.equal(seen.headers?.['x-fortress-request-id'], REQUEST_ID);
    assert.equal(Number(seen.headers?.['content-length']), Buffer.byteLength(seen.body ?? ''));
    assert.deepEqual(JSON.parse(seen.body ?? ''), {
      type: 'error',
      error: {
        type: 'policy_denied',
        message: 'model "claude-opus-4-1" is denied for your role',
        code: 403,
      },
      request_id: REQUEST_ID,
    });
  });

  it('adds the extra fields and headers of an error', async () => {
    const e: AnthropicError = {
      ...errors.deviceNoncompliant('device "dev_1" is not compliant', 'dev_1'),
      headers: { 'retry-after': '30' },
    };
    respond = (_req, res) => sendAnthropicError(res, REQUEST_ID, e);
    const seen = await send(server.port, {}, (req) => req.end());
    assert.equal(seen.headers?.['retry-after'], '30');
    assert.deepEqual((JSON.parse(seen.body ?? '') as { error: unknown }).error, {
      type: 'device_noncompliant',
      message: 'device "dev_1" is not compliant',
      code: 403,
      device_id: 'dev_1',
    });
  });

  it('counts the length in bytes, not characters', async () => {
    respond = (_req, res) =>
      sendAnthropicError(res, REQUEST_ID, errors.unauthenticated('clé refusée — 鍵'));
    const seen = await send(server.port, {}, (req) => req.end());
    assert.equal(
      (JSON.parse(seen.body ?? '') as { error: { message: string } }).error.message,
      'clé refusée — 鍵',
    );
  });

  it('destroys the response instead of writing twice when headers were already sent', async () => {
    let threw: unknown;
    let destroyed = false;
    respond = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: message_start\ndata: {}\n\n', () => {
        try {
          sendAnthropicError(res, REQUEST_ID, errors.upstreamUnavailable());
        } catch (err) {
          threw = err;
        }
        destroyed = res.destroyed;
      });
    };
    const seen = await send(server.port, {}, (req) => req.end());
    assert.equal(threw, undefined);
    assert.equal(destroyed, true);
    assert.equal(seen.status, 200);
    assert.ok(seen.error, 'the client must see the stream break off');
    assert.ok(!(seen.body ?? '').includes('api_error'));
  });

  describe('as the official SDK sees it', () => {
    const cases = [
      {
        name: 'missing key',
        error: errors.missingKey(),
        status: 401,
        sdkClass: Anthropic.AuthenticationError,
      },
      {
        name: 'invalid request',
        error: errors.invalidRequest('model: field required'),
        status: 400,
        sdkClass: Anthropic.BadRequestError,
      },
      {
        name: 'policy denied',
        error: errors.policyDenied('denied'),
        status: 403,
        sdkClass: Anthropic.PermissionDeniedError,
      },
      {
        name: 'no route',
        error: errors.notFound('/v1/nothing'),
        status: 404,
        sdkClass: Anthropic.NotFoundError,
      },
      {
        name: 'too large',
        error: errors.tooLarge(1024),
        status: 413,
        sdkClass: Anthropic.ContentTooLargeError,
      },
      {
        name: 'failed closed',
        error: errors.failedClosed(),
        status: 503,
        sdkClass: Anthropic.ServiceUnavailableError,
      },
      {
        name: 'upstream unavailable',
        error: errors.upstreamUnavailable(),
        status: 502,
        sdkClass: Anthropic.InternalServerError,
      },
    ];
    for (const c of cases) {
      it(`raises ${c.sdkClass.name} with the envelope for ${c.name} (${c.status})`, async () => {
        respond = (_req, res) => sendAnthropicError(res, REQUEST_ID, c.error);
        const client = new Anthropic({
          apiKey: 'fk_test_x',
          baseURL: `http://127.0.0.1:${server.port}`,
          maxRetries: 0,
        });
        const err = await client.messages
          .create({
            model: 'claude-sonnet-5-5',
            max_tokens: 16,
            messages: [{ role: 'user', content: 'hi' }],
          })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(err instanceof c.sdkClass, String(err));
        assert.ok(err instanceof Anthropic.APIError);
        assert.equal(err.status, c.status);
        assert.deepEqual((err.error as { error?: unknown } | undefined)?.error, {
          type: c.error.type,
          message: c.error.message,
          ...c.error.extra,
        });
      });
    }
  });

  it('clips a long path in the not-found message', () => {
    const e = errors.notFound(`/${'a'.repeat(500)}`);
    assert.ok(e.message.length < 120);
    assert.match(e.message, /^no route for "\/a+"$/);
  });
});
