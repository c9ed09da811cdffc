import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILT_IN_PRICE_BOOK,
  CONTEXT_1M_BETA,
  canonicalModel,
  loadPriceBook,
  priceOf,
  type PriceEntry,
} from '../src/price-book.js';
import {
  INJECTED_INPUT_TOKENS,
  actualSpend,
  actualTokens,
  parseBetas,
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
  webSearchRequests: 0,
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

  it('gives Sonnet 4 and 4.5 a long-context tier at 2× input and 1.5× output, others none', () => {
    const tier = sonnet().longContext;
    assert.deepEqual(
      { ...tier, rates: undefined },
      {
        beta: CONTEXT_1M_BETA,
        thresholdTokens: 200_000,
        maxInputTokens: 1_000_000,
        rates: undefined,
      },
    );
    assert.deepEqual(tier?.rates, {
      input: 6,
      output: 22.5,
      cacheWrite5m: 7.5,
      cacheWrite1h: 12,
      cacheRead: 0.6,
      batchInput: 3,
      batchOutput: 11.25,
    });
    assert.ok(priceOf(BUILT_IN_PRICE_BOOK, 'claude-sonnet-4-20250514', NOW)?.longContext);
    assert.equal(priceOf(BUILT_IN_PRICE_BOOK, 'claude-opus-4-1', NOW)?.longContext, undefined);
    for (const e of BUILT_IN_PRICE_BOOK.entries) {
      assert.equal(e.serverToolFees.webSearchPerRequest, 10_000, e.model);
    }
  });

  it('reads long-context tiers and server-tool fees from a file, strictly', () => {
    const dir = mkdtempSync(join(tmpdir(), 'price-book-'));
    try {
      const file = join(dir, 'prices.json');
      const r = { ...sonnet().rates };
      const lc = { beta: 'context-1m-2025-08-07', thresholdTokens: 200_000, maxInputTokens: 1e6 };
      const write = (e: Record<string, unknown>) =>
        writeFileSync(
          file,
          JSON.stringify({
            entries: [{ model: 'm-1', effectiveFrom: '2026-01-01', rates: r, ...e }],
          }),
        );
      write({ longContext: { ...lc, rates: r }, serverToolFees: { webSearchPerRequest: 12_000 } });
      const priced = priceOf(loadPriceBook(file), 'm-1', NOW);
      assert.deepEqual(priced?.longContext, { ...lc, rates: r });
      assert.equal(priced?.serverToolFees.webSearchPerRequest, 12_000);

      write({});
      const plain = priceOf(loadPriceBook(file), 'm-1', NOW);
      assert.equal(plain?.serverToolFees.webSearchPerRequest, 10_000, 'omitted is not free');
      assert.equal(Object.hasOwn(plain ?? {}, 'longContext'), false);

      const invalid = [
        { name: 'an unknown tier field', e: { longContext: { ...lc, rates: r, x: 1 } } },
        { name: 'a tier without rates', e: { longContext: lc } },
        {
          name: 'a window no larger',
          e: { longContext: { ...lc, maxInputTokens: 200_000, rates: r } },
        },
        {
          name: 'a threshold past the window',
          e: { longContext: { ...lc, thresholdTokens: 300_000, rates: r } },
        },
        { name: 'a negative fee', e: { serverToolFees: { webSearchPerRequest: -1 } } },
        {
          name: 'an unknown tool fee',
          e: { serverToolFees: { webSearchPerRequest: 1, codeExecution: 1 } },
        },
      ];
      for (const c of invalid) {
        write(c.e);
        assert.throws(() => loadPriceBook(file), /price book .* is invalid/, c.name);
      }
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
      betas: [],
      webSearchUses: 0,
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

  describe('long context', () => {
    const file = (extra: Record<string, unknown> = {}) =>
      body({
        messages: [
          { role: 'user', content: [{ type: 'document', source: { type: 'file', file_id: 'f' } }] },
        ],
        ...extra,
      });

    it('reads the betas of anthropic-beta headers, comma-separated and repeated', () => {
      assert.deepEqual(parseBetas(undefined), []);
      assert.deepEqual(parseBetas(' a , b,,c '), ['a', 'b', 'c']);
      assert.deepEqual(parseBetas(['a', `b, ${CONTEXT_1M_BETA}`]), ['a', 'b', CONTEXT_1M_BETA]);
    });

    it('reserves the 1M window at long-context rates only when the request asks for the beta', () => {
      const without = worstCase(sonnet(), requestShape(file(), 300, ['other-beta']));
      assert.deepEqual(without, { spendMicrousd: 200_000 * 3 + 1000 * 15, tokens: 201_000 });
      const withBeta = worstCase(sonnet(), requestShape(file(), 300, [CONTEXT_1M_BETA]));
      assert.deepEqual(withBeta, {
        spendMicrousd: 1_000_000 * 6 + 1000 * 22.5,
        tokens: 1_001_000,
      });
      const opus = priceOf(BUILT_IN_PRICE_BOOK, 'claude-opus-4-1', NOW) as PriceEntry;
      assert.equal(worstCase(opus, requestShape(file(), 300, [CONTEXT_1M_BETA])).tokens, 201_000);
    });

    it('keeps standard rates while the input bound stays within the threshold, beta or not', () => {
      const small = worstCase(sonnet(), requestShape(body(), 5000, [CONTEXT_1M_BETA]));
      assert.equal(small.spendMicrousd, (5000 + INJECTED_INPUT_TOKENS) * 3 + 1000 * 15);
      const big = worstCase(sonnet(), requestShape(body(), 300_000, [CONTEXT_1M_BETA]));
      assert.equal(big.spendMicrousd, (300_000 + INJECTED_INPUT_TOKENS) * 6 + 1000 * 22.5);
      const cached = requestShape(
        file({ system: [{ type: 'text', text: 'x', cache_control: { type: 'ephemeral' } }] }),
        300,
        [CONTEXT_1M_BETA],
      );
      assert.equal(worstCase(sonnet(), cached).spendMicrousd, 1_000_000 * 12 + 1000 * 22.5);
    });

    it('bills every token at long-context rates once input passes 200,000, not at 200,000', () => {
      const cases = [
        { name: 'at the threshold', input: 200_000, inRate: 3, outRate: 15 },
        { name: 'one past it', input: 200_001, inRate: 6, outRate: 22.5 },
      ];
      for (const c of cases) {
        const u = usage({
          inputTokens: c.input - 1000,
          cacheReadInputTokens: 1000,
          outputTokens: 100,
        });
        const expected = Math.ceil(
          (c.input - 1000) * c.inRate + 1000 * (c.inRate / 10) + 100 * c.outRate,
        );
        assert.equal(actualSpend(sonnet(), u), expected, c.name);
      }
      const split = usage({
        inputTokens: 100_000,
        cacheCreationInputTokens: 100_000,
        cacheCreation1hInputTokens: 100_000,
        cacheReadInputTokens: 1,
      });
      assert.equal(actualSpend(sonnet(), split), 100_000 * 6 + 100_000 * 12 + 1);
    });
  });

  describe('web search', () => {
    const search = (tool: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
      body({ tools: [{ type: 'web_search_20250305', name: 'web_search', ...tool }], ...extra });

    it('reserves max_uses searches at the per-search fee', () => {
      const shape = requestShape(search({ max_uses: 5 }), 300);
      assert.equal(shape.webSearchUses, 5);
      assert.equal(worstCase(sonnet(), shape).spendMicrousd, 200_000 * 3 + 1000 * 15 + 5 * 10_000);
    });

    it('bounds searches by max_tokens when max_uses is absent or larger, never by zero', () => {
      const cases = [
        { name: 'no max_uses', tool: {}, uses: 1000 },
        { name: 'max_uses past max_tokens', tool: { max_uses: 5000 }, uses: 1000 },
        { name: 'an invalid max_uses', tool: { max_uses: '3' }, uses: 1000 },
        { name: 'max_uses 0', tool: { max_uses: 0 }, uses: 0 },
      ];
      for (const c of cases) {
        assert.equal(requestShape(search(c.tool), 300).webSearchUses, c.uses, c.name);
      }
      const shape = requestShape(search(), 300);
      assert.equal(
        worstCase(sonnet(), shape).spendMicrousd,
        200_000 * 3 + 1000 * 15 + 1000 * 10_000,
      );
      assert.equal(
        requestShape(body({ tools: [{ type: 'web_fetch_20250910', name: 'web_fetch' }] }), 300)
          .webSearchUses,
        0,
      );
    });

    it('bills web_search_requests at the per-search fee', () => {
      assert.equal(actualSpend(sonnet(), usage({ webSearchRequests: 3 })), 30_000);
      assert.equal(
        actualSpend(sonnet(), usage({ inputTokens: 10, webSearchRequests: 1 })),
        30 + 10_000,
      );
      assert.equal(actualTokens(usage({ webSearchRequests: 3 })), 0);
    });
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
