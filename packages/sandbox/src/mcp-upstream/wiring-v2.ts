import { randomUUID } from 'node:crypto';
import {
  McpServer,
  ProtocolError,
  ProtocolErrorCode,
  WebStandardStreamableHTTPServerTransport,
  createMcpHandler,
  isInitializeRequest,
  isLegacyRequest,
} from '@modelcontextprotocol/server';
import { sendRpcError, sendWebResponse, toWebRequest } from './node-web.js';
import { FAKE_TOOLS, runTool, toolsPage } from './tools.js';
import { NO_SESSION, UNKNOWN_SESSION, type Wiring, type WiringOptions } from './wiring.js';

/** An McpServer (v2 SDK) with the fake's tools and a paged tools/list. */
function buildServer({ state, pageSize }: WiringOptions): McpServer {
  const mcp = new McpServer({ name: 'fortress-fake-upstream', version: '1.0.0' });
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
      (args: Record<string, unknown>) => runTool(tool, args, state),
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
  const sessions = new Map<
    string,
    { transport: WebStandardStreamableHTTPServerTransport; close: () => Promise<void> }
  >();
  const modern = options.modern
    ? createMcpHandler(() => buildServer(options), { legacy: 'reject' })
    : undefined;

  return {
    async handle({ req, res, url, body, parsed }) {
      const request = toWebRequest(req, url, body);
      if (modern !== undefined && !(await isLegacyRequest(request, parsed))) {
        return sendWebResponse(await modern.fetch(request), res);
      }
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const session = sessions.get(sessionId);
        if (session === undefined) return sendRpcError(res, UNKNOWN_SESSION);
        return sendWebResponse(
          await session.transport.handleRequest(request, { parsedBody: parsed }),
          res,
        );
      }
      if (req.method !== 'POST' || !isInitializeRequest(parsed))
        return sendRpcError(res, NO_SESSION);
      const mcp = buildServer(options);
      const transport = new WebStandardStreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          sessions.set(id, { transport, close: () => mcp.close() });
        },
        onsessionclosed: (id) => {
          sessions.delete(id);
        },
      });
      await mcp.connect(transport);
      return sendWebResponse(await transport.handleRequest(request, { parsedBody: parsed }), res);
    },

    async expireSessions() {
      const open = [...sessions.values()];
      sessions.clear();
      await Promise.all(open.map((s) => s.close()));
    },

    sessionCount: () => sessions.size,

    async close() {
      await this.expireSessions();
      await modern?.close();
    },
  };
}
