import type { Connector } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import { callTool } from '../connectors/call-tool.js';
import { connectorDefinition } from '../connectors/catalog/index.js';
import { validateToolArguments } from '../connectors/schema-validation.js';
import { testConnection } from '../connectors/test-connection.js';
import { createTokenCache } from '../connectors/auth/token-cache.js';
import type {
  ConnectorDefinition,
  CredentialMaterial,
  CredentialKind as Kind,
} from '../connectors/types.js';
import {
  copyCredential,
  type ConnectorCredential,
  type ConnectorRuntime,
  type McpTool,
} from './tool-types.js';

const KIND: Partial<Record<CredentialKind, Kind>> = {
  [CredentialKind.API_KEY]: 'api_key',
  [CredentialKind.USERNAME_PASSWORD]: 'username_password',
  [CredentialKind.OAUTH2]: 'oauth2',
  [CredentialKind.APP]: 'app',
};
const VAULT_KIND: Record<Kind, CredentialKind> = {
  api_key: CredentialKind.API_KEY,
  username_password: CredentialKind.USERNAME_PASSWORD,
  oauth2: CredentialKind.OAUTH2,
  app: CredentialKind.APP,
};

/** The vault's credential in the connectors' terms (an unknown kind cannot be used). */
function materialOf(c: ConnectorCredential): CredentialMaterial | undefined {
  const kind = KIND[c.kind];
  return kind ? { kind, secret: c.secret, fields: c.fields } : undefined;
}

/** A connector's tools as MCP shows them: prefixed with the connector's id. */
function toolsOf(connectorId: string, def: ConnectorDefinition): McpTool[] {
  return def.tools
    .map((t) => ({
      name: `${connectorId}__${t.action}`,
      title: t.title,
      description: t.description,
      inputSchema: { ...t.inputSchema },
      outputSchema: { ...t.outputSchema },
      annotations: { title: t.title, ...t.annotations },
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

/**
 * A refreshed credential in the vault's terms, in buffers of its own: the executor keeps the
 * fields it did not change (client id and secret) as the very buffers of the credential it was
 * given, which the caller zeroes once the call is over — before the refreshed one is stored.
 */
function ownCopy(m: CredentialMaterial): ConnectorCredential {
  return copyCredential({ kind: VAULT_KIND[m.kind], secret: m.secret, fields: m.fields });
}

const instanceOf = (c: Connector) => ({
  id: c.id,
  type: c.type,
  baseUrl: c.baseUrl,
  settings: { ...c.settings },
});

/**
 * The catalog connectors (Zendesk, Slack, GitHub, Jira, Salesforce, accounting) behind the
 * gateway's connector interface: tools from their declarative definitions, calls and tests
 * through the executor with the vault's credential.
 */
export function createConnectorRuntime(options: { fetch?: typeof fetch } = {}): ConnectorRuntime {
  const toolCache = new Map<string, McpTool[]>();
  const fetchOpt = options.fetch ? { fetch: options.fetch } : {};
  // Minted tokens (GitHub App installation tokens, Salesforce password logins) are reused
  // until they expire instead of being minted per call.
  const tokenCache = createTokenCache();

  return {
    tools(_orgId, connector) {
      const key = `${connector.id}\n${connector.type}`;
      let tools = toolCache.get(key);
      if (!tools) {
        const def = connectorDefinition(connector.type);
        tools = def ? toolsOf(connector.id, def) : [];
        toolCache.set(key, tools);
      }
      return Promise.resolve(tools);
    },

    validate(_orgId, connector, action, args) {
      const def = connectorDefinition(connector.type);
      if (!def) return [`unknown connector type "${connector.type}"`];
      const v = validateToolArguments(def, action, args);
      return v.ok ? [] : v.errors;
    },

    async call({ connector, action, args, credential, signal }) {
      const material = materialOf(credential);
      if (!material)
        return { kind: 'unavailable', reason: 'the credential is of an unusable kind' };
      const started = performance.now();
      const out = await callTool({
        instance: instanceOf(connector),
        credential: material,
        action,
        args,
        signal,
        tokenCache,
        ...fetchOpt,
      });
      const upstreamUs = Math.round((performance.now() - started) * 1000);
      const refreshed = out.refreshedCredential
        ? { refreshed: ownCopy(out.refreshedCredential) }
        : {};
      switch (out.kind) {
        case 'result':
          return {
            kind: 'result',
            content: [{ type: 'text', text: out.text }],
            structuredContent: out.structuredContent,
            isError: false,
            upstreamUs,
            ...refreshed,
          };
        case 'business_error':
          return {
            kind: 'result',
            content: [{ type: 'text', text: out.message }],
            isError: true,
            upstreamUs,
            ...refreshed,
          };
        default:
          return { kind: 'unavailable', reason: out.reason, upstreamUs, ...refreshed };
      }
    },

    async test({ connector, credential, signal }) {
      const material = materialOf(credential);
      if (!material) return { ok: false, reason: 'the credential is of an unusable kind' };
      const out = await testConnection({
        instance: instanceOf(connector),
        credential: material,
        signal,
        tokenCache,
        ...fetchOpt,
      });
      const refreshed = out.refreshedCredential
        ? { refreshed: ownCopy(out.refreshedCredential) }
        : {};
      return out.ok ? { ok: true, ...refreshed } : { ok: false, reason: out.reason, ...refreshed };
    },
  };
}
