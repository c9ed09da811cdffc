import assert from 'node:assert/strict';
import { adminCall } from './support/mcp.js';
import { adminSession, eventually, useStack, type TestStack } from './support/stack.js';

describe('admin API: alert settings and the alert email log (/api/v1/alerts)', () => {
  let stack: TestStack;
  let orgId: string;
  let owner: string;
  let viewer: string;

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    orgId = (await stack.seed()).orgId;
    owner = await adminSession(stack, orgId, 'owner', 'alerts-owner@example.com');
    viewer = await adminSession(stack, orgId, 'viewer', 'alerts-viewer@example.com');
  });

  it('sets who gets which alerts, validated by the audit service, change-logged, viewers read only', async () => {
    const defaults = await adminCall(stack, owner, 'GET', '/alerts/settings');
    assert.equal(defaults.status, 200);
    const put = await adminCall(stack, owner, 'PUT', '/alerts/settings', {
      email_recipients: ['secops@example.com'],
      email_types: ['pat.spend_cap_reached', 'anomaly.detected'],
    });
    assert.equal(put.status, 200, JSON.stringify(put.json));
    const got = await adminCall(stack, viewer, 'GET', '/alerts/settings');
    const settings = got.json['settings'] as { email_recipients: string[]; email_types: string[] };
    assert.deepEqual(settings.email_recipients, ['secops@example.com']);
    assert.deepEqual([...settings.email_types].sort(), [
      'anomaly.detected',
      'pat.spend_cap_reached',
    ]);
    const bad = await adminCall(stack, owner, 'PUT', '/alerts/settings', {
      email_recipients: ['not an address'],
    });
    assert.equal(bad.status, 400);
    const denied = await adminCall(stack, viewer, 'PUT', '/alerts/settings', {
      email_recipients: [],
    });
    assert.equal(denied.status, 403);
    const listed = await adminCall(stack, owner, 'GET', '/alerts');
    assert.equal(listed.status, 200);
    await eventually(async () => {
      const rows = await stack.auditRows(orgId);
      return rows.find(
        (r) => r.kind === 'change' && JSON.stringify(r.event).includes('secops@example.com'),
      );
    }, 'the change in the change log');
  });
});
