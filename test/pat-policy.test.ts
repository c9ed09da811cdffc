import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import {
  ALLOWED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

describe('PAT requests under the policy model', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  it('answers 429 rate_limit_error with retry-after once a rate rule is exhausted', async () => {
    const org = await stack.seed();
    await stack.operator.policyAdmin.putRule({
      orgId: org.orgId,
      actorId: 'usr_admin',
      rule: {
        id: 'two-per-hour',
        scopeType: 'org',
        condition: { case: 'rateLimit', value: { limit: 2, windowSeconds: 3600, per: 'user' } },
      },
    });
    const client = new Anthropic({ apiKey: org.orgKey, baseURL: stack.edgeUrl, maxRetries: 0 });
    const ask = () =>
      client.messages.create({
        model: ALLOWED_MODEL,
        max_tokens: 8,
        messages: [{ role: 'user', content: 'hi' }],
      });
    await ask();
    await ask();
    const upstreamBefore = stack.sandbox.requests.length;
    await assert.rejects(ask(), (err: unknown) => {
      assert.ok(err instanceof Anthropic.RateLimitError);
      const retryAfter = Number(err.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 3600, `retry-after ${retryAfter}`);
      return true;
    });
    assert.equal(
      stack.sandbox.requests.length,
      upstreamBefore,
      'the limited request was not forwarded',
    );
    const rows = await eventually(async () => {
      const r = await stack.auditRows(org.orgId);
      return r.some((x) => x.reasons.some((y) => y.code === 'rate_limited')) ? r : undefined;
    }, 'the audited rate-limit denial');
    assert.ok(
      rows.some((r) => r.decision === 'deny' && r.reasons[0]?.ruleId === 'rule/two-per-hour'),
    );
    await eventually(async () => {
      const r = await stack.auditRows(org.orgId);
      return (
        r.some(
          (x) => x.kind === 'notification' && JSON.stringify(x.event).includes('user.overage'),
        ) || undefined
      );
    }, 'the user.overage notification');
  });

  it('denies a model outside the PAT key allowlist with policy_denied naming the key’s rule', async () => {
    const org = await stack.seed({ allowedModels: ['*'] });
    await stack.operator.policyAdmin.putPatLimits({
      orgId: org.orgId,
      actorId: 'usr_admin',
      limits: { patKeyId: org.patKeyId, modelAllowlist: [ALLOWED_MODEL], maxTokensPerRequest: 100 },
    });
    const other = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      model: 'claude-sonnet-4-5-20250929',
    });
    assert.equal(other.status, 403);
    assert.equal(other.json.error?.type, 'policy_denied');
    assert.match(other.json.error?.message ?? '', /allowlist/);
    const tooMany = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      body: JSON.stringify({
        model: ALLOWED_MODEL,
        max_tokens: 500,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    assert.equal(tooMany.status, 403);
    assert.match(tooMany.json.error?.message ?? '', /max_tokens 500/);
    const fine = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
    assert.equal(fine.status, 200);
  });
});
