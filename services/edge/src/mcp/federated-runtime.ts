import Ajv from 'ajv';
import type { Connector } from '@fortress/proto/policy/v1/policy_pb';
import { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';
import type { Logger } from '@fortress/kit/log';
import {
  callUpstreamTool,
  listUpstreamTools,
  UpstreamUnavailableError,
  type CredentialMaterial,
  type UpstreamMcpPool,
} from '../connectors/upstream-mcp.js';
import type { FederatedCatalog } from './federated-catalog.js';
import {
  copyCredential,
  zeroCredential,
  type ConnectorCredential,
  type ConnectorRuntime,
  type ContentBlock,
  type McpTool,
} from './tool-types.js';

/** A listing older than this is refreshed in the background after a call. */
const REFRESH_AFTER_MS = 10 * 60 * 1000;

const KIND: Partial<Record<CredentialKind, CredentialMaterial['kind']>> = {
  [CredentialKind.API_KEY]: 'api_key',
  [CredentialKind.USERNAME_PASSWORD]: 'username_password',
  [CredentialKind.OAUTH2]: 'oauth2',
  [CredentialKind.APP]: 'app',
};

const configOf = (orgId: string, c: Connector) => ({
  id: c.id,
  url: c.baseUrl,
  settings: { ...c.settings },
  orgId,
});

/**
 * Upstream MCP servers (connector type "mcp") behind the gateway's connector interface: tools
 * from the shared catalog of their last listing (made at Test Connection, refreshed after
 * calls), prefixed with the connector id; calls through the pooled official client with the
 * vault's credential injected — never the AI client's own.
 */
export function createFederatedRuntime(deps: {
  catalog: FederatedCatalog;
  pool: UpstreamMcpPool;
  logger: Logger;
}): ConnectorRuntime {
  const ajv = new Ajv({ allErrors: true, jsonPointers: true });
  const validators = new Map<string, ((v: unknown) => string[]) | undefined>();
  /** The tool's validator; none when its schema is not one Ajv (draft-07) compiles. */
  const validatorOf = (tool: McpTool) => {
    const key = `${tool.name}\n${JSON.stringify(tool.inputSchema)}`;
    if (!validators.has(key)) {
      let fn: ((v: unknown) => string[]) | undefined;
      try {
        // Ajv 6 knows draft-07 only: the $schema of a newer draft would make it refuse.
        const schema = { ...tool.inputSchema };
        delete schema['$schema'];
        const check = ajv.compile(schema);
        fn = (v) =>
          check(v)
            ? []
            : (check.errors ?? []).map((e) => `"${e.dataPath || '/'}" ${e.message ?? ''}`);
      } catch {
        // The upstream validates its own arguments (the spec asks servers to).
        fn = undefined;
      }
      validators.set(key, fn);
    }
    return validators.get(key);
  };
  const known = new Map<string, McpTool>();

  const list = async (
    orgId: string,
    connector: Connector,
    credential: ConnectorCredential,
    signal: AbortSignal,
  ) => {
    const kind = KIND[credential.kind];
    if (!kind) throw new UpstreamUnavailableError('the credential is of an unusable kind');
    const tools = await listUpstreamTools({
      config: configOf(orgId, connector),
      credential: { kind, secret: credential.secret, fields: credential.fields },
      signal,
      pool: deps.pool,
    });
    await deps.catalog.put(orgId, connector.id, {
      url: connector.baseUrl,
      listedAt: Date.now(),
      tools,
    });
    return tools;
  };

  return {
    async tools(orgId, connector) {
      const listing = await deps.catalog.get(orgId, connector.id);
      if (!listing || listing.url !== connector.baseUrl) return [];
      return listing.tools
        .map((t): McpTool => {
          const tool = {
            name: t.name,
            ...(t.title ? { title: t.title } : {}),
            ...(t.description ? { description: t.description } : {}),
            inputSchema: t.inputSchema,
            ...(t.outputSchema ? { outputSchema: t.outputSchema } : {}),
            ...(t.annotations ? { annotations: t.annotations } : {}),
          };
          known.set(`${orgId}\n${t.name}`, tool);
          return tool;
        })
        .sort((a, b) => (a.name < b.name ? -1 : 1));
    },

    validate(orgId, connector, action, args) {
      const tool = known.get(`${orgId}\n${connector.id}__${action}`);
      const check = tool ? validatorOf(tool) : undefined;
      return check ? check(args) : [];
    },

    async call({ orgId, connector, action, args, credential, signal }) {
      const kind = KIND[credential.kind];
      if (!kind) return { kind: 'unavailable', reason: 'the credential is of an unusable kind' };
      const listing = await deps.catalog.get(orgId, connector.id);
      const name = `${connector.id}__${action}`;
      const tool = listing?.tools.find((t) => t.name === name);
      if (!tool) return { kind: 'unavailable', reason: `the upstream has no tool ${name}` };
      const material = { kind, secret: credential.secret, fields: credential.fields };
      const started = performance.now();
      const out = await callUpstreamTool({
        config: configOf(orgId, connector),
        credential: material,
        upstreamName: tool.upstreamName,
        args,
        signal,
        pool: deps.pool,
      });
      const upstreamUs = Math.round((performance.now() - started) * 1000);
      if (listing && Date.now() - listing.listedAt > REFRESH_AFTER_MS) {
        // The credential is in hand: refresh the shared listing (best effort, not awaited).
        const copy = copyCredential(credential);
        list(orgId, connector, copy, AbortSignal.timeout(30_000))
          .catch((err: unknown) =>
            deps.logger.warn(
              { err, orgId, connectorId: connector.id },
              'upstream tools not refreshed',
            ),
          )
          .finally(() => zeroCredential(copy));
      }
      if (out.kind === 'unavailable')
        return { kind: 'unavailable', reason: out.reason, upstreamUs };
      return {
        kind: 'result',
        content: out.content as ContentBlock[],
        ...(out.structuredContent ? { structuredContent: out.structuredContent } : {}),
        isError: out.isError,
        upstreamUs,
      };
    },

    async test({ orgId, connector, credential, signal }) {
      try {
        await list(orgId, connector, credential, signal);
        return { ok: true };
      } catch (err) {
        return {
          ok: false,
          reason: err instanceof UpstreamUnavailableError ? err.reason : 'the upstream failed',
        };
      }
    },
  };
}

/** Routes each connector to its runtime by type: "mcp" to federation, the rest to the catalog. */
export function createRuntimeByType(
  catalog: ConnectorRuntime,
  federated: ConnectorRuntime,
): ConnectorRuntime {
  const of = (c: Connector) => (c.type === 'mcp' ? federated : catalog);
  return {
    tools: (orgId, c, signal) => of(c).tools(orgId, c, signal),
    validate: (orgId, c, action, args) => of(c).validate(orgId, c, action, args),
    call: (input) => of(input.connector).call(input),
    test: (input) => of(input.connector).test(input),
  };
}
