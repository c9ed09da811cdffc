import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILT_IN_PRICE_BOOK,
  canonicalModel,
  loadPriceBook,
  priceOf,
  type PriceEntry,
} from '../src/price-book.js';
import {
  INJECTED_INPUT_TOKENS,
  actualSpend,
  actualTokens,
  requestShape,
  worstCase,
  type TokenUsage,
} from '../src/spend.js';

const NOW = new Date('2026-11-22T12:00:00Z');
const SONNET = 'claude-sonnet-4-5-20250929';
const sonnet = () => priceOf(BUILT_IN_PRICE_BOOK, SONNET, NOW) as PriceEntry;
const usage = (u: Partial<TokenUsage>): TokenUsage => ({
  inputTokens: 0,
  outputTokens: 0,
  cacheCreationInputTokens: 0,
  cacheReadInputTokens: 0,
  cacheCreation5mInputTokens: 0,
  cacheCreation1hInputTokens: 0,
  ...u,
});

describe('price book', () => {
  it('prices exact ids and the aliases it lists, and nothing by prefix', () => {
    assert.equal(sonnet().rates.input, 3);
    assert.equal(canonicalModel(BUILT_IN_PRICE_BOOK, 'claude-sonnet-4-5'), SONNET);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, 'claude-sonnet-4-5', NOW)?.model, SONNET);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, 'claude-sonnet-4-5-2025', NOW), undefined);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, `${SONNET}-x`, NOW), undefined);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, 'claude-opus-4-6', NOW), undefined);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, 'toString', NOW), undefined);
    assert.equal(canonicalModel(BUILT_IN_PRICE_BOOK, 'constructor'), 'constructor');
  });

  it('has no price before a model is released', () => {
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, SONNET, new Date('2025-09-28T23:59:59Z')), undefined);
    assert.ok(priceOf(BUILT_IN_PRICE_BOOK, SONNET, new Date('2025-09-29T00:00:00Z')));
  });

  it('takes the latest dated entry in force, from a file that extends the built-in book', () => {
    const dir = mkdtempSync(join(tmpdir(), 'price-book-'));
    try {
      const file = join(dir, 'prices.json');
      const r = (input: number) => ({
        input,
        output: input * 5,
        cacheWrite5m: input * 1.25,
        cacheWrite1h: input * 2,
        cacheRead: input / 10,
        batchInput: input / 2,
        batchOutput: input * 2.5,
      });
      writeFileSync(
        file,
        JSON.stringify({
          entries: [
            { model: SONNET, effectiveFrom: '2026-12-01', rates: r(2) },
            { model: 'claude-opus-4-6', effectiveFrom: '2026-01-01', rates: r(5) },
          ],
          aliases: { 'claude-opus-4-6-latest': 'claude-opus-4-6' },
        }),
      );
      const book = loadPriceBook(file);
      assert.equal(priceOf(book, SONNET, NOW)?.rates.input, 3);
      assert.equal(priceOf(book, SONNET, new Date('2026-12-01T00:00:00Z'))?.rates.input, 2);
      assert.equal(priceOf(book, 'claude-opus-4-6-latest', NOW)?.rates.output, 25);
      assert.equal(priceOf(book, 'claude-opus-4-6', NOW)?.maxInputTokens, 200_000);

      writeFileSync(file, JSON.stringify({ entries: [{ model: SONNET, rates: r(-1) }] }));
      assert.throws(() => loadPriceBook(file), /price book .* is invalid/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('spend', () => {
  const body = (extra: Record<string, unknown> = {}) => ({
    model: SONNET,
    max_tokens: 1000,
    messages: [{ role: 'user', content: 'hello' }],
    ...extra,
  });

  it('bounds input by the body bytes plus what the API injects, at the input rate', () => {
    const shape = requestShape(body(), 5000);
    assert.deepEqual(shape, {
      bodyBytes: 5000,
      maxTokens: 1000,
      usesPromptCache: false,
      externalInput: false,
    });
    const input = 5000 + INJECTED_INPUT_TOKENS;
    assert.deepEqual(worstCase(sonnet(), shape), {
      spendMicrousd: input * 3 + 1000 * 15,
      tokens: input + 1000,
    });
  });

  it('reserves the dearest cache-write rate when the request uses the prompt cache', () => {
    const shape = requestShape(
      body({ system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }),
      100,
    );
    assert.equal(shape.usesPromptCache, true);
    assert.equal(
      worstCase(sonnet(), shape).spendMicrousd,
      (100 + INJECTED_INPUT_TOKENS) * 6 + 15_000,
    );
  });

  it('reserves the whole context window when input comes from outside the body', () => {
    const cases = [
      body({
        messages: [
          {
            role: 'user',
            content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }],
          },
        ],
      }),
      body({
        messages: [
          { role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f' } }] },
        ],
      }),
      body({ tools: [{ type: 'web_search_20250305', name: 'web_search' }] }),
      body({ mcp_servers: [{ type: 'url', url: 'https://mcp', name: 'm' }] }),
    ];
    for (const b of cases) {
      const shape = requestShape(b, 300);
      assert.equal(shape.externalInput, true, JSON.stringify(b));
      assert.equal(worstCase(sonnet(), shape).tokens, 200_000 + 1000);
    }
    const custom = requestShape(
      body({ tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] }),
      300,
    );
    assert.equal(custom.externalInput, false);
  });

  it('caps the input bound at the context window', () => {
    assert.equal(worstCase(sonnet(), requestShape(body(), 5_000_000)).tokens, 200_000 + 1000);
  });

  it('survives a deeply nested body without recursion', () => {
    let deep: unknown = { cache_control: { type: 'ephemeral' } };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    assert.equal(requestShape(body({ metadata: deep }), 10).usesPromptCache, true);
  });

  it('bills actual usage by kind, cache writes without a split at the 5-minute rate', () => {
    const u = usage({
      inputTokens: 1000,
      outputTokens: 500,
      cacheReadInputTokens: 10_000,
      cacheCreationInputTokens: 3000,
      cacheCreation1hInputTokens: 1000,
      cacheCreation5mInputTokens: 1000,
    });
    // 1000×3 + 500×15 + 10000×0.3 + (1000 + 1000 unsplit)×3.75 + 1000×6
    assert.equal(actualSpend(sonnet(), u), 3000 + 7500 + 3000 + 7500 + 6000);
    assert.equal(actualTokens(u), 1000 + 500 + 10_000 + 3000);
    assert.equal(actualSpend(sonnet(), usage({})), 0);
  });

  it('never bills less than the usage costs (rounds up to a whole micro-USD)', () => {
    const haiku3 = priceOf(BUILT_IN_PRICE_BOOK, 'claude-3-haiku-20240307', NOW) as PriceEntry;
    assert.equal(actualSpend(haiku3, usage({ inputTokens: 1 })), 1);
    assert.equal(actualSpend(haiku3, usage({ inputTokens: 4 })), 1);
    assert.equal(actualSpend(haiku3, usage({ cacheReadInputTokens: 10 })), 1);
  });

  it('never reserves less than the worst case it can be settled at', () => {
    // A request whose output hits max_tokens and whose input is all 1-hour cache writes.
    const b = body({ system: [{ type: 'text', text: 'y', cache_control: { type: 'ephemeral' } }] });
    const bytes = Buffer.byteLength(JSON.stringify(b));
    const reserved = worstCase(sonnet(), requestShape(b, bytes));
    const worst = usage({
      cacheCreationInputTokens: bytes + INJECTED_INPUT_TOKENS,
      cacheCreation1hInputTokens: bytes + INJECTED_INPUT_TOKENS,
      outputTokens: 1000,
    });
    assert.ok(actualSpend(sonnet(), worst) <= reserved.spendMicrousd);
    assert.ok(actualTokens(worst) <= reserved.tokens);
  });
});
