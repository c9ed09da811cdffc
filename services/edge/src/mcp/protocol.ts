/** The MCP protocol revisions Fortress serves, newest first. */
export const MODERN_VERSIONS = ['2026-07-28'] as const;
/** The 2025-era revisions (initialize handshake, sessions), newest first. */
export const LEGACY_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
/** The one revision whose clients may send JSON-RPC batches. */
export const BATCH_VERSION = '2025-03-26';
/** What a legacy request without an MCP-Protocol-Version header is taken to speak. */
export const DEFAULT_LEGACY_VERSION = '2025-03-26';

/** `_meta` keys of the 2026-07-28 per-request envelope and results. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
} as const;

/** Who this server is. */
export const SERVER_INFO = { name: 'fortress', title: 'Fortress MCP gateway', version: '0.1.0' };

/** What this server offers: tools, whose list can change (roles, connectors, kill switch). */
export const CAPABILITIES = { tools: { listChanged: true } };

/** What clients are told about this server. */
export const INSTRUCTIONS =
  "Fortress governs access to your organisation's SaaS tools. You see only the tools your role may use; every call is authorised, audited and may have personal data masked.";

/** Whether a legacy revision is one Fortress speaks. */
export const isLegacyVersion = (v: string): boolean =>
  (LEGACY_VERSIONS as readonly string[]).includes(v);

/** Whether a modern revision is one Fortress speaks. */
export const isModernVersion = (v: string): boolean =>
  (MODERN_VERSIONS as readonly string[]).includes(v);
