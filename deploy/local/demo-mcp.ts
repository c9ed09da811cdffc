/**
 * The MCP half of the demo organisation: a Zendesk connector backed by the sandbox's fake
 * Zendesk (Zendesk's own wire format, tickets with PII in them), a "support" role that may use
 * every Zendesk tool but delete, PII masking for that role, and an MCP org key.
 */
import { ConnectorStatus, Effect, RedactionKind } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import { Product } from '@fortress/proto/common/v1/common_pb';
import { KeyEnvironment } from '@fortress/proto/identity/v1/identity_pb';
import type { OperatorClients } from '@fortress/harness/stack/operator-clients';
import { startFakeZendesk, ZENDESK_DEFAULTS } from '@fortress/sandbox/saas/zendesk';

const OPERATOR = 'operator';
const enc = (s: string) => new TextEncoder().encode(s);

/** Seeds the MCP demo; the fake Zendesk runs until `close`. */
export async function seedMcpDemo(
  clients: OperatorClients,
  orgId: string,
  mcpKey: string | undefined,
): Promise<{ zendeskUrl: string; mcpKey: string; close: () => Promise<void> }> {
  const zendesk = await startFakeZendesk();
  const connector = {
    id: 'zendesk',
    type: 'zendesk',
    label: 'Support desk (sandbox Zendesk)',
    baseUrl: zendesk.url,
    settings: {},
  };
  // The fake listens on a new port each start: the connector follows it.
  await clients.policyAdmin.putConnector({ orgId, connector, actorId: OPERATOR });
  await clients.vaultAdmin
    .putCredential({
      orgId,
      id: 'conn_zendesk',
      label: 'Zendesk API token (sandbox)',
      kind: CredentialKind.API_KEY,
      material: {
        secret: enc(ZENDESK_DEFAULTS.apiToken),
        fields: { username: enc(ZENDESK_DEFAULTS.email) },
      },
      actorId: OPERATOR,
    })
    .catch(() => undefined); // kept from an earlier start
  const policy = await clients.policyAdmin.getPolicy({ orgId });
  const current = policy.model?.connectors.find((c) => c.id === 'zendesk');
  if (
    current &&
    current.status !== ConnectorStatus.ACTIVE &&
    current.status !== ConnectorStatus.KILLED
  )
    await clients.policyAdmin.setConnectorStatus({
      orgId,
      connectorId: 'zendesk',
      status: ConnectorStatus.ACTIVE,
      expectedStatus: current.status,
      reason: 'the local sandbox Zendesk is up',
      actorId: OPERATOR,
    });
  const tool = (action: string, effect = Effect.ALLOW) => ({
    resourceType: 'tool',
    resourceId: `zendesk__${action}`,
    effect,
  });
  await clients.policyAdmin.putRole({
    orgId,
    actorId: OPERATOR,
    role: {
      name: 'support',
      description: 'Support agents: every Zendesk tool but deleting tickets',
      grants: [tool('*'), tool('delete_ticket', Effect.DENY)],
    },
  });
  await clients.policyAdmin.putRedaction({
    orgId,
    role: 'support',
    connectorId: 'zendesk',
    profile: {
      kinds: [RedactionKind.EMAIL, RedactionKind.PHONE, RedactionKind.SSN, RedactionKind.CARD],
    },
    actorId: OPERATOR,
  });
  const valid =
    mcpKey &&
    (await clients.identity.authenticate({ apiKey: mcpKey, context: { requestId: 'local-start' } }))
      .authenticated;
  const key = valid
    ? mcpKey
    : (
        await clients.identityAdmin.createApiKey({
          orgId,
          label: 'Demo MCP key (support role)',
          roles: ['support'],
          products: [Product.MCP],
          environment: KeyEnvironment.LIVE,
        })
      ).secret;
  return { zendeskUrl: zendesk.url, mcpKey: key, close: () => zendesk.close() };
}
