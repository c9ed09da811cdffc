import { newServerToolUseId } from './ids.js';
import type { MessageRequest } from './message-request.js';
import type { JsonObject } from './wire-types.js';

/** One result of a fake search, in the fields of a `web_search_result`. */
export interface SearchResult {
  readonly url: string;
  readonly title: string;
  readonly encryptedContent: string;
  readonly pageAge: string | null;
}

/** The model's call of the web search server tool (a `server_tool_use` block). */
export interface PlannedSearchCall {
  readonly type: 'server_tool_use';
  readonly id: string;
  readonly name: 'web_search';
  readonly input: { readonly query: string };
}

/** What the search returned (a `web_search_tool_result` block). */
export interface PlannedSearchResult {
  readonly type: 'web_search_tool_result';
  readonly toolUseId: string;
  readonly results: readonly SearchResult[];
}

const RESULTS_PER_SEARCH = 2;
const MAGIC_TOKENS = /\bFAKE_[A-Z_]+(?::\d+)?\b/g;

/**
 * The searches FAKE_WEB_SEARCH asks for, as call and result pairs, when the request offers a
 * web search tool (`web_search_20250305` or a later `web_search_*`) and does not forbid tools.
 * The count is capped by the tool's `max_uses`, as the real API stops searching there. Results
 * are deterministic apart from the call ids, so a proxy's bytes can be compared with the fake's.
 */
export function planWebSearches(
  request: MessageRequest,
  asked: number | undefined,
  lastText: string,
): Array<PlannedSearchCall | PlannedSearchResult> {
  const tool = webSearchTool(request);
  if (asked === undefined || tool === undefined || request.toolChoice?.type === 'none') return [];
  const maxUses = tool['max_uses'];
  const count = typeof maxUses === 'number' && maxUses >= 0 ? Math.min(asked, maxUses) : asked;
  const topic = searchTopic(lastText);
  const blocks: Array<PlannedSearchCall | PlannedSearchResult> = [];
  for (let i = 0; i < count; i += 1) {
    const query = i === 0 ? topic : `${topic} (${i + 1})`;
    const id = newServerToolUseId();
    blocks.push({ type: 'server_tool_use', id, name: 'web_search', input: { query } });
    blocks.push({ type: 'web_search_tool_result', toolUseId: id, results: resultsFor(query) });
  }
  return blocks;
}

/** The request's web search server tool, if it offers one. */
function webSearchTool(request: MessageRequest): JsonObject | undefined {
  return request.tools.find((t) => {
    const type = t['type'];
    return typeof type === 'string' && type.startsWith('web_search_');
  });
}

/** The user's words without the test hooks, as the query the model would search for. */
function searchTopic(text: string): string {
  const words = text.replace(MAGIC_TOKENS, ' ').replace(/\s+/g, ' ').trim();
  return words === '' ? 'fortress sandbox' : words.slice(0, 80);
}

function resultsFor(query: string): SearchResult[] {
  const slug = encodeURIComponent(query.toLowerCase().replace(/\s+/g, '-'));
  return Array.from({ length: RESULTS_PER_SEARCH }, (_, k) => {
    const url = `https://example.com/sandbox-search/${slug}/${k + 1}`;
    return {
      url,
      title: `Sandbox result ${k + 1} for "${query}"`,
      // Opaque in the real API; here a stable encoding of what the page would be.
      encryptedContent: Buffer.from(`${url}\u0000${query}`).toString('base64'),
      pageAge: k === 0 ? 'January 5, 2026' : null,
    };
  });
}
