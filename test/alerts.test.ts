import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AlertState } from '@fortress/proto/audit/v1/alert_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import {
  startReceiver,
  verify,
  type Receiver,
} from '../services/audit/test/support/webhook-receiver.js';
import { eventually, useStack, type TestStack } from './support/stack.js';

const DAY_MS = 24 * 3600_000;

/**
 * Alerts across the stack: the vault's sweep raises credential.expiring (7 days' notice, once
 * per credential version) on the audit stream; audit emails it to the org's alert recipients
 * through the stack's SMTP relay (a sink on loopback) and delivers it to the org's webhook.
 */
describe('alerts: a credential about to expire reaches the org’s inbox and webhook once', function () {
  this.timeout(180_000);
  let stack: TestStack;
  let receiver: Receiver;

  before(async () => {
    stack = await useStack();
    receiver = await startReceiver();
  });
  after(() => receiver?.close());

  it('emails credential.expiring for a credential expiring in 3 days, once across sweeps, and not for one expiring in 30', async () => {
    const { orgId } = await stack.seed();
    await stack.operator.alerts.setAlertSettings({
      orgId,
      emailRecipients: ['secops@example.com'],
      emailTypes: ['credential.expiring'],
      actorId: 'admin_e2e',
    });
    const hook = await stack.operator.webhooks.createWebhook({
      orgId,
      url: receiver.url,
      eventTypes: ['credential.expiring'],
      actorId: 'admin_e2e',
    });
    stack.issuedSecrets.push(hook.secret);
    const secrets: string[] = [];
    const put = async (id: string, label: string, inDays: number) => {
      const secret = `acct-secret-${randomBytes(12).toString('hex')}`;
      secrets.push(secret);
      stack.issuedSecrets.push(secret);
      await stack.operator.vaultAdmin.putCredential({
        orgId,
        id,
        label,
        kind: CredentialKind.API_KEY,
        material: { secret: new TextEncoder().encode(secret), fields: {} },
        expiresAt: timestampFromDate(new Date(Date.now() + inDays * DAY_MS)),
        actorId: 'admin_e2e',
      });
    };
    // Each put makes the vault sweep the org: the first sweep notifies cred_soon, the second
    // (for cred_soontoo) must not notify it again; cred_later is 23 days from its notice.
    await put('cred_soon', 'Accounting API', 3);
    await put('cred_later', 'Jira token', 30);
    const forOrg = () =>
      stack.mail.messages.filter((m) => m.text.includes(`Organization: ${orgId}`));
    await eventually(() => (forOrg().length >= 1 ? true : undefined), 'the first email', 30_000);
    await put('cred_soontoo', 'Slack app', 2);
    const mails = await eventually(
      () => (forOrg().length >= 2 ? forOrg() : undefined),
      'the second email',
      30_000,
    );
    assert.deepEqual(mails.map((m) => m.subject).sort(), [
      '[Fortress] Credential "Accounting API" (cred_soon) expires in 3 days',
      '[Fortress] Credential "Slack app" (cred_soontoo) expires in 2 days',
    ]);
    for (const m of mails) assert.deepEqual(m.to, ['secops@example.com']);

    const alerts = await eventually(async () => {
      const res = await stack.operator.alerts.listAlerts({ orgId });
      return res.alerts.every((a) => a.state === AlertState.SENT) ? res.alerts : undefined;
    }, 'the alert log');
    assert.equal(alerts.length, 2);
    const hooks = await eventually(
      () => (receiver.verifiedIds(hook.secret).size >= 2 ? receiver.received : undefined),
      'the webhook deliveries',
      30_000,
    );
    // One per event: a receiver dedupes by webhook-id (a retry would carry the same one).
    const byId = new Map(
      hooks.map((h) => {
        const p = verify(hook.secret, h) as { type: string; data: { credential_id: string } };
        return [String(h.headers['webhook-id']), [p.type, p.data.credential_id]];
      }),
    );
    const delivered = [...byId.values()].sort();
    assert.deepEqual(delivered, [
      ['credential.expiring', 'cred_soon'],
      ['credential.expiring', 'cred_soontoo'],
    ]);
    const everything = stack.mail.messages.map((m) => m.raw).join('\n');
    for (const s of secrets) assert.ok(!everything.includes(s), 'a credential in an email');
  });
});
