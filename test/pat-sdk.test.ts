import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('PAT Fortress with the official Anthropic SDK', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  it('returns the upstream answer when the SDK points at the edge', async () => {
    const org = await stack.seed();
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    const viaFortress = await client.messages
      .create({
        model: ALLOWED_MODEL,
        max_tokens: 64,
        messages: [{ role: 'user', content: 'what is the capital of France?' }],
      })
      .withResponse();
    const direct = new Anthropic({
      apiKey: stack.sandboxAnthropicKey,
      baseURL: stack.sandbox.url,
      maxRetries: 0,
    });
    const expected = await direct.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 64,
      messages: [{ role: 'user', content: 'what is the capital of France?' }],
    });
    assert.deepEqual(viaFortress.data.content, expected.content);
    assert.equal(viaFortress.data.model, ALLOWED_MODEL);
    assert.match(
      viaFortress.response.headers.get('x-fortress-request-id') ?? '',
      /^req_[0-9a-f]{20}$/,
    );
    assert.match(
      viaFortress.response.headers.get('request-id') ?? '',
      /^req_/,
      'upstream request-id passes through',
    );
  });

  it('sends the real key upstream and never the org key', async () => {
    const org = await stack.seed();
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    const marker = `marker-${Date.now()}`;
    await client.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: marker }],
    });
    const seen = stack.sandbox.requests.find((r) => r.body.toString('utf8').includes(marker));
    assert.ok(seen, 'the upstream received the request');
    assert.equal(seen.headers['x-api-key'], stack.sandboxAnthropicKey);
    assert.equal(seen.headers['authorization'], undefined);
    assert.ok(!JSON.stringify(seen.headers).includes(org.orgKey), 'org key not forwarded');
    assert.equal(
      seen.headers['anthropic-version'],
      '2026-10-21',
      'the SDK’s version header is forwarded',
    );
  });

  it('accepts the org key in x-api-key as well as in Authorization: Bearer', async () => {
    const org = await stack.seed();
    const viaHeader = new Anthropic({
      apiKey: null,
      baseURL: stack.edgeUrl,
      maxRetries: 0,
      defaultHeaders: { 'x-api-key': org.orgKey },
    });
    const msg = await viaHeader.messages.create({
      model: ALLOWED_MODEL,
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(msg.type, 'message');
  });

  it('raises PermissionDeniedError with policy_denied for a model the role may not use', async () => {
    const org = await stack.seed();
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    const before = stack.sandbox.requests.length;
    await assert.rejects(
      client.messages.create({
        model: DENIED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (err: unknown) => {
        assert.ok(err instanceof Anthropic.PermissionDeniedError);
        assert.equal(err.status, 403);
        const body = err.error as { error?: { type?: string; code?: number; message?: string } };
        assert.equal(body.error?.type, 'policy_denied');
        assert.equal(body.error?.code, 403);
        assert.match(body.error?.message ?? '', new RegExp(DENIED_MODEL));
        return true;
      },
    );
    assert.equal(
      stack.sandbox.requests.length,
      before,
      'a denied request never reaches the upstream',
    );
  });

  it('raises AuthenticationError for an unknown key and for a revoked one', async () => {
    const org = await stack.seed();
    const unknown = new Anthropic({
      apiKey: `fk_live_${'x'.repeat(43)}`,
      baseURL: stack.edgeUrl,
      maxRetries: 0,
    });
    await assert.rejects(
      unknown.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      Anthropic.AuthenticationError,
    );
    await stack.operator.identityAdmin.revokeApiKey({ orgId: org.orgId, keyId: org.orgKeyId });
    const revoked = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    await assert.rejects(
      revoked.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'hi' }],
      }),
      (err: unknown) => err instanceof Anthropic.AuthenticationError && /revoked/.test(err.message),
    );
    const rows = await eventually(async () => {
      const r = await stack.auditRows(org.orgId);
      return r.some((row) => row.reasons.some((x) => x.code === 'api_key_revoked')) ? r : undefined;
    }, 'the audited revocation denial');
    assert.ok(rows.some((r) => r.decision === 'deny'));
  });

  it('passes upstream errors through with their status so the SDK raises the same class', async () => {
    const org = await stack.seed();
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    await assert.rejects(
      client.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 16,
        messages: [{ role: 'user', content: 'FAKE_RATE_LIMIT' }],
      }),
      (err: unknown) =>
        err instanceof Anthropic.RateLimitError && err.headers.get('retry-after') === '7',
    );
  });
});
