import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import { sendWebResponse, toWebRequest } from './node-web.js';
import { FAKE_TOOLS, registrationOf, runTool, toolsPage } from './tools.js';
import { createSessionTable, type Wiring, type WiringOptions } from './wiring.js';

/** An McpServer (v2 SDK) with the fake's tools and a paged tools/list. */
function buildServer({ state, pageSize }: WiringOptions): McpServer {
  const mcp = new McpServer({ name: 'fortress-fake-upstream', version: '1.0.0' });
  for (const tool of FAKE_TOOLS) {
    mcp.registerTool(tool.name, registrationOf(tool), (args: Record<string, unknown>) =>
      runTool(tool, args, state),
    );
  }
  mcp.server.removeRequestHandler('tools/list');
  mcp.server.setRequestHandler('tools/list', (request) => {
    const page = toolsPage(request.params?.cursor, pageSize);
    if (page === undefined)
      throw new ProtocolError(ProtocolErrorCode.InvalidParams, 'invalid cursor');
    return page;
  });
  return mcp;
}

/**
 * The v2 server SDK (`@modelcontextprotocol/server`). 2025-era requests get a sessionful
 * WebStandardStreamableHTTPServerTransport per session; with `modern`, requests that carry the
 * 2026-07-28 `_meta` envelope go to the SDK's stateless `createMcpHandler` instead.
 */
export function createV2Wiring(options: WiringOptions & { modern: boolean }): Wiring {
  const sessions = createSessionTable<WebStandardStreamableHTTPServerTransport>(404);
  const modern = options.modern
    ? createMcpHandler(() => buildServer(options), { legacy: 'reject' })
    : undefined;

  return {
    async handle(incoming) {
      const { req, res, url, body, parsed } = incoming;
      const request = toWebRequest(req, url, body);
      if (modern !== undefined && !(await isLegacyRequest(request, parsed))) {
        return sendWebResponse(await modern.fetch(request), res);
      }
      return sessions.route(
        incoming,
        async (transport) =>
          sendWebResponse(await transport.handleRequest(request, { parsedBody: parsed }), res),
        async (hooks) => {
          const mcp = buildServer(options);
          const transport = new WebStandardStreamableHTTPServerTransport(hooks);
          await mcp.connect(transport);
          return { transport, close: () => mcp.close() };
        },
      );
    },

    expireSessions: () => sessions.expire(),

    sessionCount: () => sessions.size(),

    async close() {
      await sessions.expire();
      await modern?.close();
    },
  };
}
