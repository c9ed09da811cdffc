import assert from 'node:assert/strict';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { createUsageTap, usageInit } from '../../src/pat/usage-tap.js';
import { EXPECTED_USAGE, MESSAGE_JSON, sseStream, ZERO_USAGE } from '../support/anthropic-wire.js';

const JSON_TYPE = 'application/json';
const SSE_TYPE = 'text/event-stream; charset=utf-8';

/** Feeds `body` to a fresh tap in the given chunks and returns the usage it read. */
function tapUsage(contentType: string, contentEncoding: string, chunks: Buffer[]) {
  const tap = createUsageTap(contentType, contentEncoding);
  for (const chunk of chunks) tap.write(chunk);
  return usageInit(tap.read().tokens);
}

/** Splits a buffer into pieces of `size` bytes. */
const pieces = (buf: Buffer, size: number) =>
  Array.from({ length: Math.ceil(buf.length / size) }, (_, i) =>
    buf.subarray(i * size, (i + 1) * size),
  );

describe('createUsageTap', () => {
  describe('JSON responses', () => {
    it('reads the usage of a JSON body', () => {
      assert.deepEqual(tapUsage(JSON_TYPE, '', [Buffer.from(MESSAGE_JSON)]), EXPECTED_USAGE);
    });

    it('reads the usage of a JSON body that arrives in many chunks', () => {
      assert.deepEqual(
        tapUsage(JSON_TYPE, '', pieces(Buffer.from(MESSAGE_JSON), 7)),
        EXPECTED_USAGE,
      );
    });

    it('reads the usage of a gzipped JSON body', () => {
      assert.deepEqual(
        tapUsage(JSON_TYPE, 'gzip', pieces(gzipSync(MESSAGE_JSON), 16)),
        EXPECTED_USAGE,
      );
    });

    it('reads the usage of a body just under the 8 MiB limit', () => {
      const padding = 'x'.repeat(8 * 1024 * 1024 - MESSAGE_JSON.length - 32);
      const body = Buffer.from(`{"padding":"${padding}",${MESSAGE_JSON.slice(1)}`);
      assert.ok(body.length <= 8 * 1024 * 1024);
      assert.deepEqual(tapUsage(JSON_TYPE, '', pieces(body, 64 * 1024)), EXPECTED_USAGE);
    });

    it('gives zero usage for a body over the 8 MiB limit, without keeping it', () => {
      const body = Buffer.from(
        `${MESSAGE_JSON.slice(0, -1)},"padding":"${'x'.repeat(8 * 1024 * 1024)}"}`,
      );
      assert.deepEqual(tapUsage(JSON_TYPE, '', pieces(body, 64 * 1024)), ZERO_USAGE);
    });

    const unreadable = [
      {
        name: 'a body that is not JSON',
        type: 'text/html',
        encoding: '',
        body: Buffer.from('<html>bad gateway</html>'),
      },
      {
        name: 'a truncated JSON body',
        type: JSON_TYPE,
        encoding: '',
        body: Buffer.from(MESSAGE_JSON.slice(0, 100)),
      },
      {
        name: 'a body labelled gzip that is not',
        type: JSON_TYPE,
        encoding: 'gzip',
        body: Buffer.from(MESSAGE_JSON),
      },
      {
        name: 'an error envelope',
        type: JSON_TYPE,
        encoding: '',
        body: Buffer.from(
          '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
        ),
      },
      { name: 'an empty body', type: JSON_TYPE, encoding: '', body: Buffer.alloc(0) },
    ];
    for (const c of unreadable) {
      it(`gives zero usage for ${c.name}`, () =>
        assert.deepEqual(tapUsage(c.type, c.encoding, [c.body]), ZERO_USAGE));
    }

    // BUG: usage-tap.ts only decodes gzip, but anthropic-upstream.ts forwards the client's
    // accept-encoding, so a client asking for br (or deflate/zstd) gets a body the tap cannot
    // read: usage is recorded as zero and spend is not metered. Fix: forward only
    // "accept-encoding: gzip" (or identity) upstream, and/or decode every encoding the edge
    // accepts (zlib has brotli, deflate and zstd decoders).
    it('reads the usage of a brotli-encoded JSON body', () => {
      assert.deepEqual(
        tapUsage(JSON_TYPE, 'br', [brotliCompressSync(MESSAGE_JSON)]),
        EXPECTED_USAGE,
      );
    });
  });

  describe('SSE streams', () => {
    const stream = Buffer.from(
      sseStream({
        input_tokens: 25,
        cache_creation_input_tokens: 10,
        cache_read_input_tokens: 5,
        output_tokens: 15,
      }),
    );

    it('reads message_start usage overlaid by the final message_delta usage', () => {
      assert.deepEqual(tapUsage(SSE_TYPE, '', [stream]), EXPECTED_USAGE);
    });

    it('keeps message_start usage when message_delta carries output tokens only', () => {
      assert.deepEqual(
        tapUsage(SSE_TYPE, '', [Buffer.from(sseStream({ output_tokens: 15 }))]),
        EXPECTED_USAGE,
      );
    });

    it('reads the same usage at every split point of the stream', () => {
      for (let at = 0; at <= stream.length; at++) {
        const usage = tapUsage(SSE_TYPE, '', [stream.subarray(0, at), stream.subarray(at)]);
        assert.deepEqual(usage, EXPECTED_USAGE, `split at byte ${at}`);
      }
    });

    it('reads the same usage when the stream arrives one byte at a time', () => {
      assert.deepEqual(tapUsage(SSE_TYPE, '', pieces(stream, 1)), EXPECTED_USAGE);
    });

    it('reads usage from CRLF-framed events', () => {
      assert.deepEqual(
        tapUsage(SSE_TYPE, '', [Buffer.from(stream.toString('utf8').replaceAll('\n', '\r\n'))]),
        EXPECTED_USAGE,
      );
    });

    it('gives zero usage for a stream that ends before message_start', () => {
      assert.deepEqual(
        tapUsage(SSE_TYPE, '', [Buffer.from('event: ping\ndata: {"type":"ping"}\n\n')]),
        ZERO_USAGE,
      );
    });

    it('ignores data lines that are not JSON', () => {
      const noisy = Buffer.from(
        `data: [DONE]\n: comment\ndata: {not json\n\n${stream.toString('utf8')}`,
      );
      assert.deepEqual(tapUsage(SSE_TYPE, '', [noisy]), EXPECTED_USAGE);
    });

    // BUG: usage-tap.ts overlays message_delta usage with a plain spread, so the nulls the API
    // may send there (MessageDeltaUsage: input_tokens, cache_creation_input_tokens and
    // cache_read_input_tokens are `number | null`) wipe the message_start values and the audit
    // records 0 input tokens. Fix: overlay only fields that are numbers (as the SDK's
    // MessageStream does: `if (usage.input_tokens != null) …`).
    it('keeps message_start usage where message_delta sends null', () => {
      const nulls = sseStream({
        input_tokens: null,
        cache_creation_input_tokens: null,
        cache_read_input_tokens: null,
        output_tokens: 15,
      });
      assert.deepEqual(tapUsage(SSE_TYPE, '', [Buffer.from(nulls)]), EXPECTED_USAGE);
    });

    it('reads the usage of a gzip-encoded stream', () => {
      assert.deepEqual(tapUsage(SSE_TYPE, 'gzip', pieces(gzipSync(stream), 100)), EXPECTED_USAGE);
    });
  });

  describe('the model that served', () => {
    it('reads it from a JSON body and from message_start', () => {
      const json = createUsageTap(JSON_TYPE, 'gzip');
      json.write(gzipSync(MESSAGE_JSON));
      const expected = (JSON.parse(MESSAGE_JSON) as { model: string }).model;
      assert.equal(json.read().model, expected);
      const sse = createUsageTap(SSE_TYPE, '');
      for (const chunk of pieces(Buffer.from(sseStream()), 5)) sse.write(chunk);
      assert.equal(sse.read().model, expected);
    });
  });
  describe('server tool use', () => {
    /** The searches a fresh tap reads from `body`, fed in pieces of `size` bytes. */
    const searches = (contentType: string, body: string, size = 7) => {
      const tap = createUsageTap(contentType, '');
      for (const chunk of pieces(Buffer.from(body), size)) tap.write(chunk);
      return tap.read().tokens.webSearchRequests;
    };
    const withSearches = (usage: Record<string, unknown>) => {
      const m = JSON.parse(MESSAGE_JSON) as { usage: Record<string, unknown> };
      return JSON.stringify({ ...m, usage: { ...m.usage, ...usage } });
    };

    it('reads web_search_requests from a JSON body, and none when it is null or absent', () => {
      const cases = [
        { name: 'reported', usage: { server_tool_use: { web_search_requests: 3 } }, expected: 3 },
        { name: 'null', usage: { server_tool_use: null }, expected: 0 },
        { name: 'absent', usage: {}, expected: 0 },
      ];
      for (const c of cases) {
        assert.equal(searches(JSON_TYPE, withSearches(c.usage)), c.expected, c.name);
      }
    });

    it('reads web_search_requests from the cumulative message_delta usage of a stream', () => {
      const delta = { output_tokens: 15, server_tool_use: { web_search_requests: 2 } };
      assert.equal(searches(SSE_TYPE, sseStream(delta)), 2);
      assert.equal(searches(SSE_TYPE, sseStream(delta), 1), 2);
      const unchanged = sseStream({ output_tokens: 15, server_tool_use: null });
      assert.equal(searches(SSE_TYPE, unchanged), 0);
    });

    it('keeps the message_start count when message_delta does not repeat it', () => {
      const start = sseStream().replace(
        '"output_tokens":1}',
        '"output_tokens":1,"server_tool_use":{"web_search_requests":4}}',
      );
      assert.notEqual(start, sseStream());
      assert.equal(searches(SSE_TYPE, start), 4);
      const nulled = start.replace(
        '"output_tokens":15}',
        '"output_tokens":15,"server_tool_use":{"web_search_requests":null}}',
      );
      assert.equal(searches(SSE_TYPE, nulled), 4);
    });
  });
});
