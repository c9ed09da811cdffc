import type { Connector } from '@fortress/proto/policy/v1/policy_pb';
import type { CredentialKind } from '@fortress/proto/vault/v1/vault_pb';

/** MCP tool annotations (hints for clients; never trusted for security). */
export interface ToolAnnotations {
  title?: string;
  readOnlyHint?: boolean;
  destructiveHint?: boolean;
  idempotentHint?: boolean;
  openWorldHint?: boolean;
}

/** A tool as `tools/list` shows it, named `<connector>__<action>`. */
export interface McpTool {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations;
}

/** A connector's credential as the vault released it (only ever in the edge's memory). */
export interface ConnectorCredential {
  kind: CredentialKind;
  secret: Uint8Array;
  fields: Record<string, Uint8Array>;
}

/** Overwrites a credential's bytes once it is no longer needed. */
export function zeroCredential(c: ConnectorCredential): void {
  c.secret.fill(0);
  for (const v of Object.values(c.fields)) v.fill(0);
}

/** A credential in buffers of its own (zeroing the original leaves the copy intact). */
export function copyCredential(c: ConnectorCredential): ConnectorCredential {
  return {
    kind: c.kind,
    secret: Uint8Array.from(c.secret),
    fields: Object.fromEntries(Object.entries(c.fields).map(([k, v]) => [k, Uint8Array.from(v)])),
  };
}

/** One MCP content block of a result. */
export type ContentBlock = { type: 'text'; text: string } | Record<string, unknown>;

/** What a tool call came to. */
export type CallOutcome = (
  | {
      kind: 'result';
      content: ContentBlock[];
      structuredContent?: Record<string, unknown>;
      /** The upstream said no (a business error): the model sees it, the connector is fine. */
      isError: boolean;
    }
  /** The upstream could not be reached or failed: the connector goes OFFLINE. */
  | { kind: 'unavailable'; reason: string }
  /** The arguments do not fit the tool's input schema (nothing was sent upstream). */
  | { kind: 'invalid_arguments'; errors: string[] }
) & {
  /** A refreshed credential (OAuth) to store back in the vault. */
  refreshed?: ConnectorCredential;
  /** Time spent upstream. */
  upstreamUs?: number;
};

/** The connector adapters: what tools a connector has and how to call them. */
export interface ConnectorRuntime {
  /** The connector's tools, prefixed with its id, sorted by name. */
  tools(orgId: string, connector: Connector, signal: AbortSignal): Promise<McpTool[]>;
  /** What is wrong with the arguments of a tool against its input schema ([] when nothing). */
  validate(
    orgId: string,
    connector: Connector,
    action: string,
    args: Record<string, unknown>,
  ): string[];
  /** Calls one tool (its name without the prefix) with the connector's credential. */
  call(input: {
    orgId: string;
    connector: Connector;
    action: string;
    args: Record<string, unknown>;
    credential: ConnectorCredential;
    signal: AbortSignal;
  }): Promise<CallOutcome>;
  /** A real, cheap call that proves the credential and the upstream work. */
  test(input: {
    orgId: string;
    connector: Connector;
    credential: ConnectorCredential;
    signal: AbortSignal;
  }): Promise<({ ok: true } | { ok: false; reason: string }) & { refreshed?: ConnectorCredential }>;
}
