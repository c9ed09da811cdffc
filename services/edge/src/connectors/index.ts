/**
 * The connector catalog and executor the MCP gateway calls (M2, M4):
 * - `listConnectorTypes()` / `connectorDefinition(type)`: what each connector offers;
 * - `validateToolArguments(def, action, args)`: JSON Schema check of a tools/call;
 * - `callTool(opts)`: runs an action against the vendor and says what came of it;
 * - `testConnection(opts)`: the cheap real call behind Test Connection.
 * MCP tool names are `<type>__<action>`; the gateway does the prefixing.
 */
export { connectorDefinition, listConnectorTypes } from './catalog/index.js';
export { validateToolArguments, type Validation } from './schema-validation.js';
export { callTool, type CallToolOptions } from './call-tool.js';
export { testConnection, type TestConnectionOptions } from './test-connection.js';
export { createTokenCache, type TokenCache } from './auth/token-cache.js';
export type {
  ConnectorDefinition,
  ConnectorInstance,
  CredentialKind,
  CredentialMaterial,
  JsonSchema,
  TestConnectionOutcome,
  ToolAnnotations,
  ToolDefinition,
  ToolOutcome,
} from './types.js';
