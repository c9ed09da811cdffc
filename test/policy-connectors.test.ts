import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Code, ConnectError } from '@connectrpc/connect';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { ConnectorStatus, Effect } from '@fortress/proto/policy/v1/policy_pb';
import { eventually, useStack, type TestStack } from './support/stack.js';

const ACTOR = 'usr_admin_test';
const newOrgId = () => `org_${randomBytes(6).toString('hex')}`;

describe('policy: connectors and their lifecycle (M3)', () => {
  let stack: TestStack;
  const orgId = newOrgId();
  const zendesk = {
    id: 'zendesk',
    type: 'zendesk',
    label: 'Support desk',
    baseUrl: 'https://acme.zendesk.com',
    settings: {},
  };
  const decide = (tool: string, action = 'mcp:tools.call') =>
    stack.operator.policy.decide({
      principal: {
        orgId,
        kind: PrincipalKind.USER,
        subjectId: 'usr_agent',
        roles: ['support'],
        products: [Product.MCP],
      },
      action,
      resource: { type: 'tool', id: tool, connectorId: tool.split('__')[0] ?? '' },
      context: { requestId: `req_${randomBytes(8).toString('hex')}`, clientIp: '10.0.0.1' },
    });
  const codes = (d: Awaited<ReturnType<typeof decide>>) => d.reasons.map((r) => r.code);
  const setStatus = (status: ConnectorStatus, expectedStatus = ConnectorStatus.UNSPECIFIED) =>
    stack.operator.policyAdmin.setConnectorStatus({
      orgId,
      connectorId: 'zendesk',
      status,
      expectedStatus,
      reason: 'test',
      actorId: ACTOR,
    });

  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
    await stack.operator.policyAdmin.putRole({
      orgId,
      actorId: ACTOR,
      role: {
        name: 'support',
        grants: [{ resourceType: 'tool', resourceId: 'zendesk__*', effect: Effect.ALLOW }],
      },
    });
  });

  it('denies a tool whose connector does not exist even when the role allows it', async () => {
    const d = await decide('zendesk__list_tickets');
    assert.deepEqual([d.decision, codes(d)], [Decision.DENY, ['unknown_tool']]);
  });

  it('creates a connector PENDING, serves it once ACTIVE, and hands its configuration over with the allow', async () => {
    const put = await stack.operator.policyAdmin.putConnector({
      orgId,
      connector: zendesk,
      actorId: ACTOR,
    });
    assert.equal(put.connector?.status, ConnectorStatus.PENDING);
    const pending = await decide('zendesk__list_tickets');
    assert.deepEqual([pending.decision, codes(pending)], [Decision.DENY, ['connector_pending']]);
    const listPending = await decide('', 'mcp:tools.list');
    assert.deepEqual(listPending.obligations?.connectors ?? [], [], 'no tools of a PENDING one');

    const activated = await setStatus(ConnectorStatus.ACTIVE, ConnectorStatus.PENDING);
    assert.equal(activated.applied, true);
    const allowed = await decide('zendesk__list_tickets');
    assert.equal(allowed.decision, Decision.ALLOW);
    assert.equal(allowed.obligations?.credentialRef, 'conn_zendesk');
    assert.deepEqual(
      allowed.obligations?.connectors.map((c) => [c.id, c.type, c.baseUrl, c.status]),
      [['zendesk', 'zendesk', 'https://acme.zendesk.com', ConnectorStatus.ACTIVE]],
    );
    const list = await decide('', 'mcp:tools.list');
    assert.deepEqual(
      list.obligations?.connectors.map((c) => c.id),
      ['zendesk'],
    );
  });

  it('keeps serving an OFFLINE connector, and a health report never undoes a kill', async () => {
    await setStatus(ConnectorStatus.OFFLINE, ConnectorStatus.ACTIVE);
    assert.equal((await decide('zendesk__get_ticket')).decision, Decision.ALLOW);
    const killed = await setStatus(ConnectorStatus.KILLED);
    assert.equal(killed.applied, true);
    const d = await decide('zendesk__get_ticket');
    assert.deepEqual([d.decision, codes(d)], [Decision.DENY, ['connector_killed']]);
    const report = await setStatus(ConnectorStatus.ACTIVE, ConnectorStatus.OFFLINE);
    assert.equal(report.applied, false, 'the edge saw it recover, but it stays killed');
    assert.equal(report.connector?.status, ConnectorStatus.KILLED);
    assert.equal((await decide('zendesk__get_ticket')).decision, Decision.DENY);
    const list = await decide('', 'mcp:tools.list');
    assert.deepEqual(list.obligations?.connectors ?? [], []);
    const notified = await eventually(async () => {
      const rows = await stack.auditRows(orgId);
      return rows.find(
        (r) => r.kind === 'notification' && JSON.stringify(r.event).includes('connector.killed'),
      );
    }, 'the connector.killed notification');
    assert.ok(notified);

    await setStatus(ConnectorStatus.ACTIVE, ConnectorStatus.KILLED);
    assert.equal((await decide('zendesk__get_ticket')).decision, Decision.ALLOW, 're-enabled');
  });

  it('refuses a connector that would leak a secret or break tool names, and a type change', async () => {
    const refusals: Array<{ name: string; connector: typeof zendesk }> = [
      { name: 'credentials in the URL', connector: { ...zendesk, baseUrl: 'https://u:p@x.io' } },
      { name: 'a secret-looking setting', connector: { ...zendesk, settings: { api_token: 'x' } } },
      { name: 'an id with "__"', connector: { ...zendesk, id: 'zen__desk' } },
      { name: 'an id with a dash', connector: { ...zendesk, id: 'zen-desk' } },
      { name: 'an id too long for tool names', connector: { ...zendesk, id: 'z'.repeat(25) } },
      { name: 'an unknown type', connector: { ...zendesk, type: 'myspace' } },
      { name: 'a non-http URL', connector: { ...zendesk, baseUrl: 'file:///etc/passwd' } },
      { name: 'a type change', connector: { ...zendesk, type: 'slack' } },
    ];
    const before = await stack.operator.policyAdmin.getPolicy({ orgId });
    for (const { name, connector } of refusals) {
      await assert.rejects(
        stack.operator.policyAdmin.putConnector({ orgId, connector, actorId: ACTOR }),
        (err: unknown) =>
          err instanceof ConnectError &&
          (err.code === Code.InvalidArgument || err.code === Code.FailedPrecondition),
        name,
      );
    }
    const after = await stack.operator.policyAdmin.getPolicy({ orgId });
    assert.equal(after.version, before.version, 'nothing changed');
  });

  it('deletes a connector with its redaction profiles; its tools then do not exist', async () => {
    await stack.operator.policyAdmin.putRedaction({
      orgId,
      role: 'support',
      connectorId: 'zendesk',
      profile: { kinds: [1] },
      actorId: ACTOR,
    });
    await stack.operator.policyAdmin.deleteConnector({
      orgId,
      connectorId: 'zendesk',
      actorId: ACTOR,
    });
    const model = (await stack.operator.policyAdmin.getPolicy({ orgId })).model;
    assert.deepEqual([model?.connectors.length, Object.keys(model?.redaction ?? {})], [0, []]);
    const d = await decide('zendesk__list_tickets');
    assert.deepEqual(codes(d), ['unknown_tool']);
  });
});
