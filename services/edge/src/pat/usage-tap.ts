import { gunzipSync } from 'node:zlib';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { UsageSchema } from '@fortress/proto/common/v1/common_pb';

/** Usage as the audit records it. */
export type UsageInit = MessageInitShape<typeof UsageSchema>;

/** Most of a JSON response we keep to read its usage; beyond this we give up on usage. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;

interface AnthropicUsage {
  input_tokens?: number;
  output_tokens?: number;
  cache_creation_input_tokens?: number;
  cache_read_input_tokens?: number;
  cache_creation?: { ephemeral_5m_input_tokens?: number; ephemeral_1h_input_tokens?: number };
}

const toUsage = (u: AnthropicUsage | undefined): UsageInit => ({
  inputTokens: BigInt(u?.input_tokens ?? 0),
  outputTokens: BigInt(u?.output_tokens ?? 0),
  cacheCreationInputTokens: BigInt(u?.cache_creation_input_tokens ?? 0),
  cacheReadInputTokens: BigInt(u?.cache_read_input_tokens ?? 0),
  cacheCreation5mInputTokens: BigInt(u?.cache_creation?.ephemeral_5m_input_tokens ?? 0),
  cacheCreation1hInputTokens: BigInt(u?.cache_creation?.ephemeral_1h_input_tokens ?? 0),
});

/**
 * Reads usage from a copy of the response bytes while they stream to the client untouched:
 * for JSON, the body's `usage`; for SSE, `message_start`'s usage overlaid by the final
 * cumulative `message_delta` usage. Never re-serialises anything the client sees.
 */
export function createUsageTap(contentType: string, contentEncoding: string) {
  const sse = contentType.startsWith('text/event-stream');
  const chunks: Buffer[] = [];
  let size = 0;
  let pending = '';
  let usage: AnthropicUsage = {};
  const onLine = (line: string) => {
    if (!line.startsWith('data:')) return;
    try {
      const event = JSON.parse(line.slice(5)) as {
        type?: string;
        message?: { usage?: AnthropicUsage };
        usage?: AnthropicUsage;
      };
      if (event.type === 'message_start') usage = { ...event.message?.usage };
      if (event.type === 'message_delta') usage = { ...usage, ...event.usage };
    } catch {
      // A line that is not JSON is not usage; the client still gets it unchanged.
    }
  };
  return {
    /** Observes one chunk on its way to the client. */
    write(chunk: Buffer): void {
      if (sse && !contentEncoding) {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        lines.forEach(onLine);
      } else if (size + chunk.length <= MAX_JSON_BYTES) {
        chunks.push(chunk);
        size += chunk.length;
      } else {
        size = Infinity;
      }
    },
    /** The usage seen, as far as it could be read. */
    usage(): UsageInit {
      if (sse) return toUsage(usage);
      if (!Number.isFinite(size)) return toUsage(undefined);
      try {
        let body = Buffer.concat(chunks);
        if (contentEncoding === 'gzip') body = gunzipSync(body);
        return toUsage((JSON.parse(body.toString('utf8')) as { usage?: AnthropicUsage }).usage);
      } catch {
        return toUsage(undefined);
      }
    },
  };
}
