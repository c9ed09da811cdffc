-- MCP tool calls per org (SummarizeToolCalls): an org's tools/call decisions and outcomes over
-- a window of time, read by an index range scan on (org, time).
--
-- Partial, so the rows it holds are exactly the ones the summary reads: PAT traffic, changes,
-- notifications and other MCP methods add nothing to it, and a month of an org's tool calls
-- is one range however busy the rest of its log is. Both columns are compared with leakproof
-- operators (text and timestamptz equality and order), so under row-level security they stay
-- index conditions. The chain is untouched: an index is not part of any row.
CREATE INDEX events_mcp_tool_calls ON events (org_id, occurred_at)
  WHERE action = 'mcp:tools.call';
