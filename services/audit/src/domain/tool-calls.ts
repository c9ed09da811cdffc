/** The action of an MCP `tools/call`, on its decision and on its outcome record. */
export const MCP_TOOL_CALL_ACTION = 'mcp:tools.call';

/** The counts of tool calls, in `fortress.audit.v1.ToolCallCounts` field order. */
export const TOOL_CALL_COUNTS = [
  'calls',
  'allowed',
  'denied',
  'succeeded',
  'toolErrors',
  'rejected',
  'failed',
] as const;

/**
 * How many tool calls were made and how they ended. Calls are counted by their decision
 * (calls = allowed + denied); the last four by the outcomes of allowed calls.
 */
export type ToolCallCounts = Record<(typeof TOOL_CALL_COUNTS)[number], bigint>;

/** One connector's share of an org's tool calls. */
export interface ConnectorToolCalls {
  connectorId: string;
  counts: ToolCallCounts;
}

/** One tool's share of an org's tool calls. */
export interface ToolCalls {
  /** `<connector>__<action>`; empty for a call refused before its tool was read. */
  tool: string;
  connectorId: string;
  counts: ToolCallCounts;
}

/** An org's tool calls over a window: in total, per connector and per tool, most calls first. */
export interface ToolCallSummary {
  total: ToolCallCounts;
  connectors: ConnectorToolCalls[];
  tools: ToolCalls[];
}
