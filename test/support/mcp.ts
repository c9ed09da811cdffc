import { randomBytes } from 'node:crypto';
import { Client as LegacyClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as LegacyTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Product } from '@fortress/proto/common/v1/common_pb';
import { KeyEnvironment } from '@fortress/proto/identity/v1/identity_pb';
import { ConnectorStatus, Effect } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import {
  startFakeZendesk,
  ZENDESK_DEFAULTS,
  type FakeZendesk,
} from '@fortress/sandbox/saas/zendesk';
import { adminSession, type TestStack } from './stack.js';

/** An org with a tested Zendesk connector and MCP keys for two roles. */
export interface McpOrg {
  orgId: string;
  zendesk: FakeZendesk;
  /** Owner session token of the admin API. */
  owner: string;
  /** MCP org keys: "support" may list, read and update tickets (not delete); "viewer" lists. */
  keys: { support: string; viewer: string };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Calls the admin API as the owner; the parsed JSON body. */
export async function adminCall(
  stack: TestStack,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${stack.edgeUrl}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/**
 * Seeds an org for MCP through the product's own surfaces: roles through the policy, the
 * Zendesk connector through the admin API (created PENDING, tested ACTIVE against a fake
 * Zendesk speaking Zendesk's wire format), and org keys issued for MCP.
 */
export async function seedMcpOrg(stack: TestStack): Promise<McpOrg> {
  const org = await stack.seed();
  const orgId = org.orgId;
  const grant = (id: string, effect = Effect.ALLOW) => ({
    resourceType: 'tool',
    resourceId: id,
    effect,
  });
  await stack.operator.policyAdmin.putRole({
    orgId,
    actorId: 'operator',
    role: {
      name: 'support',
      grants: [
        grant('zendesk__list_tickets'),
        grant('zendesk__get_ticket'),
        grant('zendesk__update_ticket'),
        grant('zendesk__create_ticket'),
        grant('zendesk__delete_ticket', Effect.DENY),
      ],
    },
  });
  await stack.operator.policyAdmin.putRole({
    orgId,
    actorId: 'operator',
    role: { name: 'viewer', grants: [grant('zendesk__list_tickets')] },
  });
  const zendesk = await startFakeZendesk();
  // The connector's credential is a canary of the secret scans: it must never leave the vault
  // except to the edge, and never appear in a log, span, error or table.
  stack.issuedSecrets.push(ZENDESK_DEFAULTS.apiToken);
  const owner = await adminSession(
    stack,
    orgId,
    'owner',
    `owner-${randomBytes(3).toString('hex')}@example.com`,
  );
  const created = await adminCall(stack, owner, 'POST', '/connectors', {
    id: 'zendesk',
    type: 'zendesk',
    label: 'Support desk',
    base_url: zendesk.url,
    credential_kind: 'CREDENTIAL_KIND_API_KEY',
    credential: {
      secret: b64(ZENDESK_DEFAULTS.apiToken),
      fields: { username: b64(ZENDESK_DEFAULTS.email) },
    },
  });
  if (created.status !== 201) throw new Error(`connector not created: ${JSON.stringify(created)}`);
  const tested = await adminCall(stack, owner, 'POST', '/connectors/zendesk/test');
  if (tested.json['ok'] !== true)
    throw new Error(`connector test failed: ${JSON.stringify(tested)}`);
  const key = async (role: string) => {
    const k = await stack.operator.identityAdmin.createApiKey({
      orgId,
      label: `${role} MCP key`,
      roles: [role],
      products: [Product.MCP],
      environment: KeyEnvironment.LIVE,
    });
    stack.issuedOrgKeys.push(k.secret);
    return k.secret;
  };
  return {
    orgId,
    zendesk,
    owner,
    keys: { support: await key('support'), viewer: await key('viewer') },
  };
}

/**
 * Gives an existing org, through the operator RPCs, a Zendesk connector at `zendesk` with its
 * credential in the vault, active, and a role granting `zendesk__get_ticket`; returns a new MCP
 * org key (with no roles of its own: an IdP group or the role below gives them).
 */
export async function addZendeskTool(
  stack: TestStack,
  orgId: string,
  zendesk: FakeZendesk,
  role: string,
): Promise<string> {
  const enc = (s: string) => new TextEncoder().encode(s);
  await stack.operator.policyAdmin.putRole({
    orgId,
    actorId: 'operator',
    role: {
      name: role,
      grants: [{ resourceType: 'tool', resourceId: 'zendesk__get_ticket', effect: Effect.ALLOW }],
    },
  });
  await stack.operator.policyAdmin.putConnector({
    orgId,
    connector: { id: 'zendesk', type: 'zendesk', label: 'Zendesk', baseUrl: zendesk.url },
    actorId: 'operator',
  });
  await stack.operator.vaultAdmin.putCredential({
    orgId,
    id: 'conn_zendesk',
    label: 'Zendesk',
    kind: CredentialKind.API_KEY,
    material: {
      secret: enc(ZENDESK_DEFAULTS.apiToken),
      fields: { username: enc(ZENDESK_DEFAULTS.email) },
    },
    actorId: 'operator',
  });
  await stack.operator.policyAdmin.setConnectorStatus({
    orgId,
    connectorId: 'zendesk',
    status: ConnectorStatus.ACTIVE,
    reason: 'test',
    actorId: 'operator',
  });
  const k = await stack.operator.identityAdmin.createApiKey({
    orgId,
    label: 'MCP key',
    products: [Product.MCP],
    environment: KeyEnvironment.LIVE,
  });
  stack.issuedOrgKeys.push(k.secret);
  return k.secret;
}

/** An official 2025-era SDK client connected with an org key. */
export async function legacyClient(stack: TestStack, key: string): Promise<LegacyClient> {
  const client = new LegacyClient({ name: 'fortress-test', version: '1.0.0' });
  await client.connect(
    new LegacyTransport(new URL(`${stack.edgeUrl}/v1/mcp`), {
      requestInit: { headers: { 'x-api-key': key } },
    }),
  );
  return client;
}

/** A raw JSON-RPC POST to /v1/mcp. */
export async function mcpPost(
  url: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const res = await fetch(`${url}/v1/mcp`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    json: text ? (JSON.parse(text) as never) : {},
  };
}
