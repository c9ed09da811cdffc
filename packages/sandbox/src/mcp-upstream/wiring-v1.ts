import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  isInitializeRequest,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { sendRpcError } from './node-web.js';
import { FAKE_TOOLS, runTool, toolsPage } from './tools.js';
import { NO_SESSION, UNKNOWN_SESSION, type Wiring, type WiringOptions } from './wiring.js';

/** An McpServer (v1 SDK) with the fake's tools and a paged tools/list. */
function buildServer({ state, pageSize }: WiringOptions): McpServer {
  const mcp = new McpServer({ name: 'fortress-fake-upstream-v1', version: '1.0.0' });
  for (const tool of FAKE_TOOLS) {
    mcp.registerTool(
      tool.name,
      {
        ...(tool.title === undefined ? {} : { title: tool.title }),
        description: tool.description,
        inputSchema: tool.input,
        ...(tool.output === undefined ? {} : { outputSchema: tool.output }),
        ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
      },
      // The two SDKs declare the same wire shape with their own types.
      async (args: Record<string, unknown>) => (await runTool(tool, args, state)) as CallToolResult,
    );
  }
  mcp.server.removeRequestHandler('tools/list');
  mcp.server.setRequestHandler(ListToolsRequestSchema, (request) => {
    const page = toolsPage(request.params?.cursor, pageSize);
    if (page === undefined) throw new McpError(ErrorCode.InvalidParams, 'invalid cursor');
    return page;
  });
  return mcp;
}

/**
 * The v1 server SDK (`@modelcontextprotocol/sdk`), which most deployed servers run and which
 * speaks only the 2025 era: either the sessionful wiring of its documentation (one transport per
 * session) or its stateless mode (a new server and transport for every request).
 */
export function createV1Wiring(options: WiringOptions & { stateless: boolean }): Wiring {
  const sessions = new Map<
    string,
    { transport: StreamableHTTPServerTransport; close: () => Promise<void> }
  >();

  return {
    async handle({ req, res, parsed }) {
      if (options.stateless) {
        const mcp = buildServer(options);
        const transport = new StreamableHTTPServerTransport({});
        res.once('close', () => void mcp.close().catch(() => undefined));
        await mcp.connect(transport);
        return transport.handleRequest(req, res, parsed);
      }
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const session = sessions.get(sessionId);
        if (session === undefined) return sendRpcError(res, UNKNOWN_SESSION);
        return session.transport.handleRequest(req, res, parsed);
      }
      if (req.method !== 'POST' || !isInitializeRequest(parsed))
        return sendRpcError(res, NO_SESSION);
      const mcp = buildServer(options);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, close: () => mcp.close() });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await mcp.connect(transport);
      return transport.handleRequest(req, res, parsed);
    },

    async expireSessions() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((s) => s.close()));
    },

    sessionCount: () => sessions.size,

    async close() {
      await this.expireSessions();
    },
  };
}
