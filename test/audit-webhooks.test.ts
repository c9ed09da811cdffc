import assert from 'node:assert/strict';
import {
  startReceiver,
  verify,
  type Receiver,
} from '../services/audit/test/support/webhook-receiver.js';
import {
  ALLOWED_MODEL,
  DENIED_MODEL,
  eventually,
  postMessages,
  useStack,
  type TestStack,
} from './support/stack.js';

/**
 * Webhooks across the stack: a PAT request for a model the org may not use makes policy
 * publish pat.model_blocked on the audit stream; the audit service delivers it, signed, to
 * the org's subscription (the local stack runs webhooks in development mode, so a receiver
 * on loopback over http is allowed).
 */
describe('webhooks: a blocked model reaches the org’s receiver, signed', function () {
  this.timeout(120_000);
  let stack: TestStack;
  let receiver: Receiver;

  before(async () => {
    stack = await useStack();
    receiver = await startReceiver();
  });
  after(() => receiver?.close());

  it('delivers pat.model_blocked with a signature the reference verifier accepts', async () => {
    const org = await stack.seed({ allowedModels: ['*'] });
    // The key's own allowlist is what blocks a model (a role grant denies without a notification).
    await stack.operator.policyAdmin.putPatLimits({
      orgId: org.orgId,
      actorId: 'admin_e2e',
      limits: { patKeyId: org.patKeyId, modelAllowlist: [ALLOWED_MODEL] },
    });
    const created = await stack.operator.webhooks.createWebhook({
      orgId: org.orgId,
      url: receiver.url,
      eventTypes: ['pat.model_blocked'],
      actorId: 'admin_e2e',
    });
    // A canary for the secret scans that run after this file.
    stack.issuedSecrets.push(created.secret);
    const denied = await postMessages(stack.edgeUrl, {
      headers: { 'x-api-key': org.orgKey },
      model: DENIED_MODEL,
    });
    assert.equal(denied.status, 403);
    const got = await eventually(() => receiver.received[0], 'the webhook', 30_000);
    const payload = verify(created.secret, got) as { type: string; data: { model: string } };
    assert.equal(payload.type, 'pat.model_blocked');
    assert.equal(payload.data.model, DENIED_MODEL);
    const rows = await stack.auditRows(org.orgId);
    assert.ok(
      rows.some((r) => r.action === 'webhook.create'),
      'the change log has the subscription',
    );
  });
});
