/**
 * Follows a list endpoint's pages in the connector's style until `limit` items are collected
 * or the vendor has no more. Next-page URLs the vendor hands out (Link headers, Salesforce's
 * `nextRecordsUrl`) are followed only on the instance's own origin.
 */
import { pick } from './json-values.js';
import { renderRequest, templateOf, type RenderedRequest } from './request-template.js';
import type { JsonPath, RequestInputs, ToolDefinition } from './types.js';
import { send, type CallFailure, type VendorCall } from './vendor-call.js';

/** Pages followed at most per call, whatever the limit: a guard against cursor loops. */
const MAX_PAGES = 50;

/** The collected items and the last page's body, or the failure that stopped the walk. */
export type Pages =
  | { ok: true; items: unknown[]; hasMore: boolean; body: unknown }
  | { ok: false; failure: CallFailure };

/** Options of one walk. */
export interface PageWalk {
  call: VendorCall;
  tool: ToolDefinition & { list: NonNullable<ToolDefinition['list']> };
  inputs: RequestInputs;
  baseUrl: string;
  limit: number;
  /** A smaller page size than the vendor's maximum, if the caller wants one. */
  pageSize?: number | undefined;
}

/** The items of one page: the first of the tool's paths that holds an array. */
function itemsOf(body: unknown, paths: readonly JsonPath[]): unknown[] {
  for (const path of paths) {
    const value = pick(body, path);
    if (Array.isArray(value)) return value;
  }
  return [];
}

/** The `rel="next"` target of an RFC 8288 Link header. */
export function nextLink(header: string | null): string | undefined {
  if (header === null) return undefined;
  for (const match of header.matchAll(/<([^>]*)>\s*((?:;\s*[^;,]+)*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(match[2] ?? '');
    if (rel?.[1]?.split(/\s+/).includes('next')) return match[1];
  }
  return undefined;
}

function badRequest(error: string): Pages {
  return {
    ok: false,
    failure: { kind: 'business_error', status: 400, message: `invalid arguments: ${error}` },
  };
}

/** Walks the pages of a list tool. */
export async function collectPages(walk: PageWalk): Promise<Pages> {
  const { call, tool, inputs, baseUrl, limit } = walk;
  const style = call.def.pagination;
  const maxPage = Math.max(1, Math.min(style.maxPageSize, walk.pageSize ?? style.maxPageSize));
  const origin = new URL(baseUrl).origin;
  const items: unknown[] = [];

  const offsetRequest = (offset: number, size: number) =>
    renderRequest(templateOf(tool.request, { ...inputs, page: { offset, size } }), inputs, baseUrl);

  let requestedSize = Math.min(maxPage, style.style === 'offset_in_request' ? limit + 1 : limit);
  const first =
    style.style === 'offset_in_request'
      ? offsetRequest(0, requestedSize)
      : renderRequest(templateOf(tool.request, inputs), inputs, baseUrl);
  if (!first.ok) return badRequest(first.error);
  let request: RenderedRequest = first.request;
  if (style.style === 'cursor' || style.style === 'link_header') {
    request.url.searchParams.set(style.sizeParam, String(requestedSize));
  }

  let body: unknown;
  for (let page = 1; ; page++) {
    const result = await send(call, request);
    if (!result.ok) return result;
    body = result.response.body;
    const pageItems = itemsOf(body, tool.list.itemsAt);
    items.push(...pageItems);

    let next: URL | undefined;
    let more: boolean;
    switch (style.style) {
      case 'cursor': {
        const cursor = pick(body, style.cursorPath);
        const vendorSaysMore =
          style.hasMorePath === undefined || pick(body, style.hasMorePath) === true;
        more = typeof cursor === 'string' && cursor !== '' && vendorSaysMore;
        if (more) {
          next = new URL(request.url);
          next.searchParams.set(style.cursorParam, cursor as string);
          next.searchParams.set(
            style.sizeParam,
            String(Math.min(maxPage, Math.max(1, limit - items.length))),
          );
        }
        break;
      }
      case 'link_header':
      case 'next_url': {
        const target =
          style.style === 'link_header'
            ? nextLink(result.response.headers.get('link'))
            : pick(body, style.nextUrlPath);
        more = typeof target === 'string' && target !== '';
        if (more) {
          next = new URL(target as string, origin);
          if (next.origin !== origin) {
            return {
              ok: false,
              failure: {
                kind: 'unavailable',
                reason: `${call.def.title} pointed the next page at another origin`,
              },
            };
          }
        }
        break;
      }
      case 'offset_in_request':
        more = pageItems.length >= requestedSize;
        break;
    }

    if (!more) break;
    if (items.length >= limit || page >= MAX_PAGES) {
      return { ok: true, items: items.slice(0, limit), hasMore: true, body };
    }
    if (style.style === 'offset_in_request') {
      requestedSize = Math.min(maxPage, limit - items.length + 1);
      const built = offsetRequest(items.length, requestedSize);
      if (!built.ok) return badRequest(built.error);
      request = built.request;
    } else if (next !== undefined) {
      request = { method: request.method, url: next };
    }
  }
  return { ok: true, items: items.slice(0, limit), hasMore: items.length > limit, body };
}
