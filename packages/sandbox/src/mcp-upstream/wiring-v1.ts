import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { FAKE_TOOLS, registrationOf, runTool, toolsPage } from './tools.js';
import { createSessionTable, type Wiring, type WiringOptions } from './wiring.js';

/** An McpServer (v1 SDK) with the fake's tools and a paged tools/list. */
function buildServer({ state, pageSize }: WiringOptions): McpServer {
  const mcp = new McpServer({ name: 'fortress-fake-upstream-v1', version: '1.0.0' });
  for (const tool of FAKE_TOOLS) {
    mcp.registerTool(
      tool.name,
      registrationOf(tool),
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
 * session; an unknown session id gets 400 there, not the spec's 404) or its stateless mode (a
 * new server and transport for every request).
 */
export function createV1Wiring(options: WiringOptions & { stateless: boolean }): Wiring {
  const sessions = createSessionTable<StreamableHTTPServerTransport>(400);

  return {
    async handle(request) {
      const { req, res, parsed } = request;
      if (options.stateless) {
        const mcp = buildServer(options);
        const transport = new StreamableHTTPServerTransport({});
        res.once('close', () => void mcp.close().catch(() => undefined));
        await mcp.connect(transport);
        return transport.handleRequest(req, res, parsed);
      }
      return sessions.route(
        request,
        (transport) => transport.handleRequest(req, res, parsed),
        async (hooks) => {
          const mcp = buildServer(options);
          const transport = new StreamableHTTPServerTransport(hooks);
          await mcp.connect(transport);
          return { transport, close: () => mcp.close() };
        },
      );
    },

    expireSessions: () => sessions.expire(),

    sessionCount: () => sessions.size(),

    async close() {
      await sessions.expire();
    },
  };
}
