import { brotliDecompressSync, gunzipSync, inflateSync, zstdDecompressSync } from 'node:zlib';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { UsageSchema } from '@fortress/proto/common/v1/common_pb';
import type { TokenUsage } from '@fortress/pricing/spend';

/** Usage as the audit records it. */
export type UsageInit = MessageInitShape<typeof UsageSchema>;

/** Most of a buffered response we keep to read its usage; beyond this we give up on usage. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/** Content codings the tap can read; the edge asks the upstream for no others. */
export const READABLE_ENCODINGS = ['gzip', 'deflate', 'br', 'zstd'] as const;

/** Decodes a whole body in one of the readable content codings. */
function decode(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case '':
    case 'identity':
      return body;
    case 'gzip':
      return gunzipSync(body);
    case 'deflate':
      return inflateSync(body);
    case 'br':
      return brotliDecompressSync(body);
    case 'zstd':
      return zstdDecompressSync(body);
    default:
      throw new Error(`unreadable content-encoding ${encoding}`);
  }
}

/** Overlays the numeric fields of `next` on `base`: the API may send null for "unchanged". */
function overlay(base: AnthropicUsage, next: AnthropicUsage | undefined): AnthropicUsage {
  const out: AnthropicUsage = { ...base };
  for (const key of [
    'input_tokens',
    'output_tokens',
    'cache_creation_input_tokens',
    'cache_read_input_tokens',
  ] as const) {
    const v = next?.[key];
    if (typeof v === 'number') out[key] = v;
  }
  if (next?.cache_creation) out.cache_creation = { ...base.cache_creation, ...next.cache_creation };
  // Cumulative like the token counts: the final message_delta carries the request's searches.
  const searches = next?.server_tool_use?.web_search_requests;
  if (typeof searches === 'number') out.server_tool_use = { web_search_requests: searches };
  return out;
}

interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation?: {
    ephemeral_5m_input_tokens?: number | null;
    ephemeral_1h_input_tokens?: number | null;
  } | null;
  server_tool_use?: { web_search_requests?: number | null } | null;
}

const count = (v: number | null | undefined): number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v > 0 ? v : 0;

const toTokens = (u: AnthropicUsage | undefined): TokenUsage => ({
  inputTokens: count(u?.input_tokens),
  outputTokens: count(u?.output_tokens),
  cacheCreationInputTokens: count(u?.cache_creation_input_tokens),
  cacheReadInputTokens: count(u?.cache_read_input_tokens),
  cacheCreation5mInputTokens: count(u?.cache_creation?.ephemeral_5m_input_tokens),
  cacheCreation1hInputTokens: count(u?.cache_creation?.ephemeral_1h_input_tokens),
  webSearchRequests: count(u?.server_tool_use?.web_search_requests),
});

/** Usage as the audit event carries it. */
export const usageInit = (t: TokenUsage): UsageInit => ({
  inputTokens: BigInt(t.inputTokens),
  outputTokens: BigInt(t.outputTokens),
  cacheCreationInputTokens: BigInt(t.cacheCreationInputTokens),
  cacheReadInputTokens: BigInt(t.cacheReadInputTokens),
  cacheCreation5mInputTokens: BigInt(t.cacheCreation5mInputTokens),
  cacheCreation1hInputTokens: BigInt(t.cacheCreation1hInputTokens),
  webSearchRequests: BigInt(t.webSearchRequests),
});

/** What the tap read: usage, and the model that served (it may differ from an alias asked). */
export interface TappedUsage {
  tokens: TokenUsage;
  model: string;
}

/**
 * Reads usage from a copy of the response bytes while they stream to the client untouched:
 * for JSON, the body's `usage`; for SSE, `message_start`'s usage overlaid by the final
 * cumulative `message_delta` usage — tokens and `server_tool_use` searches alike. An uncompressed stream is parsed as it flows (constant
 * memory); a compressed body is kept (bounded) and decoded at the end. Never re-serialises
 * anything the client sees.
 */
export function createUsageTap(contentType: string, contentEncoding: string) {
  const sse = contentType.startsWith('text/event-stream');
  const streaming = sse && (contentEncoding === '' || contentEncoding === 'identity');
  const chunks: Buffer[] = [];
  let size = 0;
  let pending = '';
  let usage: AnthropicUsage = {};
  let model = '';
  const onLine = (line: string) => {
    if (!line.startsWith('data:')) return;
    try {
      const event = JSON.parse(line.slice(5)) as {
        type?: string;
        message?: { usage?: AnthropicUsage; model?: unknown };
        usage?: AnthropicUsage;
      };
      if (event.type === 'message_start') {
        usage = overlay({}, event.message?.usage);
        if (typeof event.message?.model === 'string') model = event.message.model;
      }
      if (event.type === 'message_delta') usage = overlay(usage, event.usage);
    } catch {
      // A line that is not JSON is not usage; the client still gets it unchanged.
    }
  };
  const onText = (text: string) => {
    pending += text;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  };
  return {
    /** Observes one chunk on its way to the client. */
    write(chunk: Buffer): void {
      if (streaming) {
        onText(chunk.toString('utf8'));
      } else if (size + chunk.length <= MAX_BUFFERED_BYTES) {
        chunks.push(chunk);
        size += chunk.length;
      } else {
        size = Infinity;
      }
    },
    /** The usage seen, as far as it could be read (call once, at the end). */
    read(): TappedUsage {
      if (streaming) {
        onText('\n');
        return { tokens: toTokens(usage), model };
      }
      if (!Number.isFinite(size)) return { tokens: toTokens(undefined), model };
      try {
        const body = decode(Buffer.concat(chunks), contentEncoding).toString('utf8');
        if (!sse) {
          const message = JSON.parse(body) as { usage?: AnthropicUsage; model?: unknown };
          return {
            tokens: toTokens(message.usage),
            model: typeof message.model === 'string' ? message.model : '',
          };
        }
        onText(`${body}\n`);
        return { tokens: toTokens(usage), model };
      } catch {
        return { tokens: toTokens(undefined), model };
      }
    },
  };
}
