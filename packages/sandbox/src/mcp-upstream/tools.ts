import type { CallToolResult, Tool, ToolAnnotations } from '@modelcontextprotocol/server';
import * as z from 'zod';

/** What the tools of one fake upstream share across sessions and restarts. */
export interface ToolState {
  /** tools/call executions per tool name (counted when the handler runs, i.e. the call arrived). */
  readonly calls: Map<string, number>;
  /** Notified with the tool name whenever a call reaches a handler. */
  readonly onCall: (name: string) => void;
  /** Aborts when the fake stops, so `hang` calls end with it. */
  readonly stopping: () => AbortSignal;
}

/** One tool of the fake, independent of the SDK that serves it. */
export interface FakeTool {
  readonly name: string;
  readonly title?: string;
  readonly description: string;
  readonly input: z.ZodObject;
  readonly output?: z.ZodObject;
  readonly annotations?: ToolAnnotations;
  readonly run: (
    args: Record<string, unknown>,
    state: ToolState,
  ) => CallToolResult | Promise<CallToolResult>;
}

const DOCS = [
  {
    id: 'doc-1',
    title: 'Rotating credentials',
    tags: ['security'],
    body: 'Rotate keys every 90 days.',
  },
  { id: 'doc-2', title: 'Onboarding', tags: ['people'], body: 'Ask IT for a laptop on day one.' },
  {
    id: 'doc-3',
    title: 'Incident response',
    tags: ['security', 'ops'],
    body: 'Page the on-call first.',
  },
] as const;

const text = (value: string): CallToolResult => ({ content: [{ type: 'text', text: value }] });

/** The fake's tools, in the order tools/list pages through them. Names are what a real server might use, including ones that need sanitising. */
export const FAKE_TOOLS: readonly FakeTool[] = [
  {
    name: 'search_docs',
    title: 'Search documents',
    description: 'Full-text search over the knowledge base.',
    input: z.object({ query: z.string(), limit: z.number().int().min(1).max(10).optional() }),
    annotations: { readOnlyHint: true },
    run: ({ query, limit }) => {
      const q = String(query).toLowerCase();
      const hits = DOCS.filter((d) => `${d.title} ${d.body}`.toLowerCase().includes(q));
      return text(
        hits
          .slice(0, typeof limit === 'number' ? limit : 10)
          .map((d) => `${d.id}: ${d.title}`)
          .join('\n') || 'no documents match',
      );
    },
  },
  {
    name: 'get_doc',
    description: 'Reads one document by id.',
    input: z.object({ id: z.string() }),
    annotations: { readOnlyHint: true },
    run: ({ id }) => {
      const doc = DOCS.find((d) => d.id === id);
      return doc
        ? text(`${doc.title}\n\n${doc.body}`)
        : { ...text(`no document "${String(id)}"`), isError: true };
    },
  },
  {
    name: 'delete_doc',
    description: 'Deletes a document. The knowledge base is read-only, so this always fails.',
    input: z.object({ id: z.string() }),
    annotations: { destructiveHint: true },
    run: ({ id }) => ({
      ...text(`permission denied: cannot delete "${String(id)}", the knowledge base is read-only`),
      isError: true,
    }),
  },
  {
    name: 'doc_stats',
    title: 'Document statistics',
    description: 'Counts documents, per tag.',
    input: z.object({}),
    output: z.object({ total: z.number().int(), byTag: z.record(z.string(), z.number().int()) }),
    annotations: { readOnlyHint: true, idempotentHint: true },
    run: () => {
      const byTag: Record<string, number> = {};
      for (const tag of DOCS.flatMap((d) => d.tags)) byTag[tag] = (byTag[tag] ?? 0) + 1;
      const stats = { total: DOCS.length, byTag };
      return { ...text(JSON.stringify(stats)), structuredContent: stats };
    },
  },
  {
    name: 'get_contact',
    description: 'Looks up the owner of a document: name, email and phone (personal data).',
    input: z.object({ docId: z.string() }),
    run: ({ docId }) =>
      text(
        `Owner of ${String(docId)}: Jane Roe, jane.roe@example.com, +1 415 555 0134, SSN 078-05-1120`,
      ),
  },
  {
    name: 'echo',
    description: 'Returns its arguments as JSON.',
    input: z.object({ text: z.string() }).passthrough(),
    run: (args) => text(JSON.stringify(args)),
  },
  {
    name: 'docs.export',
    description: 'Exports all documents (a dotted name, as some servers use).',
    input: z.object({}),
    run: () => text(DOCS.map((d) => d.id).join(',')),
  },
  {
    name: 'docs_export',
    description: 'Exports the document index (collides with docs.export once sanitised).',
    input: z.object({}),
    run: () => text(`${DOCS.length} documents`),
  },
  {
    name: 'summarise_every_document_in_the_knowledge_base_and_return_the_highlights',
    description: 'A tool whose name is too long to prefix within 64 characters.',
    input: z.object({}),
    run: () => text(DOCS.map((d) => d.title).join('; ')),
  },
  {
    name: 'hang',
    description: 'Never answers until the fake stops: for timeouts.',
    input: z.object({}),
    run: async (_args, state) => {
      const stopped = state.stopping();
      await new Promise((resolve) => stopped.addEventListener('abort', resolve, { once: true }));
      return text('stopped');
    },
  },
];

/** How many tools the fake lists in all. */
export const FAKE_TOOL_COUNT = FAKE_TOOLS.length;

/** The wire form of a tool, as a paginating server lists it. */
function listed(tool: FakeTool): Tool {
  return {
    name: tool.name,
    ...(tool.title === undefined ? {} : { title: tool.title }),
    description: tool.description,
    inputSchema: z.toJSONSchema(tool.input, { io: 'input' }) as Tool['inputSchema'],
    ...(tool.output === undefined ? {} : { outputSchema: z.toJSONSchema(tool.output) }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
  };
}

/** Cursors are opaque to clients; here they encode the offset of the next page. */
function offsetOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return 0;
  const offset = Number(Buffer.from(cursor, 'base64url').toString('utf8'));
  return Number.isInteger(offset) && offset > 0 && offset < FAKE_TOOLS.length ? offset : undefined;
}

/**
 * One tools/list page, or undefined for a cursor the fake never issued. The SDKs' McpServer
 * lists every tool in one page, so each wiring replaces its tools/list handler with this.
 */
export function toolsPage(
  cursor: string | undefined,
  pageSize: number,
): { tools: Tool[]; nextCursor?: string } | undefined {
  const offset = offsetOf(cursor);
  if (offset === undefined) return undefined;
  const next = offset + pageSize;
  return {
    tools: FAKE_TOOLS.slice(offset, next).map(listed),
    ...(next < FAKE_TOOLS.length
      ? { nextCursor: Buffer.from(String(next), 'utf8').toString('base64url') }
      : {}),
  };
}

/** The registerTool config of a tool; both SDKs take zod schemas and the same fields. */
export function registrationOf(tool: FakeTool) {
  return {
    ...(tool.title === undefined ? {} : { title: tool.title }),
    description: tool.description,
    inputSchema: tool.input,
    ...(tool.output === undefined ? {} : { outputSchema: tool.output }),
    ...(tool.annotations === undefined ? {} : { annotations: tool.annotations }),
  };
}

/** Runs a tool for a call that reached the server, counting it first. */
export async function runTool(
  tool: FakeTool,
  args: Record<string, unknown>,
  state: ToolState,
): Promise<CallToolResult> {
  state.calls.set(tool.name, (state.calls.get(tool.name) ?? 0) + 1);
  state.onCall(tool.name);
  return tool.run(args, state);
}
