import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * Rates of one model in USD per million tokens — which is also micro-USD per token, the unit
 * spend is counted in. Cache writes are the 5-minute and 1-hour prompt-cache writes; batch
 * rates are the Message Batches API's.
 */
export interface ModelRates {
  input: number;
  output: number;
  cacheWrite5m: number;
  cacheWrite1h: number;
  cacheRead: number;
  batchInput: number;
  batchOutput: number;
}

/**
 * A model's long-context tier: with `beta` in the request's `anthropic-beta` list the window
 * grows to `maxInputTokens`, and a request whose input (uncached + cache writes + cache reads)
 * exceeds `thresholdTokens` has ALL its tokens billed at `rates`, not only the excess.
 */
export interface LongContextTier {
  beta: string;
  thresholdTokens: number;
  maxInputTokens: number;
  rates: ModelRates;
}

/**
 * Per-use fees of server tools, in micro-USD per use, on top of the tokens they add. Only web
 * search has one: web fetch is billed as tokens alone, and code execution by container time,
 * which no request bounds and the usage does not report per request (so it is not priced here).
 */
export interface ServerToolFees {
  webSearchPerRequest: number;
}

/** One dated entry: the rates that apply to a model from `effectiveFrom` (UTC day) on. */
export interface PriceEntry {
  model: string;
  effectiveFrom: string;
  rates: ModelRates;
  /** The model's context window: no request can be billed for more input than this. */
  maxInputTokens: number;
  /** Present for models with a larger, dearer window behind a beta. */
  longContext?: LongContextTier;
  serverToolFees: ServerToolFees;
}

/** A dated price book and the aliases it resolves deliberately (never by prefix). */
export interface PriceBook {
  entries: readonly PriceEntry[];
  /** Alias → exact model id, as the book's date knows them. */
  aliases: Readonly<Record<string, string>>;
}

const rates = (input: number, output: number): ModelRates => ({
  input,
  output,
  cacheWrite5m: input * 1.25,
  cacheWrite1h: input * 2,
  cacheRead: input / 10,
  batchInput: input / 2,
  batchOutput: output / 2,
});

/**
 * Web search is $10 per 1,000 searches, i.e. 10,000 micro-USD each, whatever the model
 * (platform.claude.com/docs/en/about-claude/pricing, "Web search tool"; confirmed 2026-11-23).
 */
export const WEB_SEARCH_MICROUSD_PER_REQUEST = 10_000;

/** The beta that opens the 1M-token window on the models that have one. */
export const CONTEXT_1M_BETA = 'context-1m-2025-08-07';

const entry = (model: string, effectiveFrom: string, r: ModelRates): PriceEntry => ({
  model,
  effectiveFrom,
  rates: r,
  maxInputTokens: 200_000,
  serverToolFees: { webSearchPerRequest: WEB_SEARCH_MICROUSD_PER_REQUEST },
});

/**
 * Long-context pricing as published for Claude Sonnet 4 and 4.5 with `context-1m-2025-08-07`
 * (platform.claude.com/docs/en/about-claude/pricing, "Long context pricing"; confirmed
 * 2026-11-23): past 200K input tokens, input ×2 ($3 → $6 / MTok) and output ×1.5 ($15 →
 * $22.50), prompt-cache writes and reads scaling with the input rate, up to a 1M window.
 */
const withLongContext = (e: PriceEntry): PriceEntry => ({
  ...e,
  longContext: {
    beta: CONTEXT_1M_BETA,
    thresholdTokens: 200_000,
    maxInputTokens: 1_000_000,
    rates: rates(e.rates.input * 2, e.rates.output * 1.5),
  },
});

/**
 * Anthropic's published list prices (claude.com/pricing), dated from each model's release.
 * A model that is not here has no price, and a request for it is denied rather than billed at
 * zero; `FORTRESS_PRICE_BOOK_FILE` adds entries (and newer dates) without a release.
 */
export const BUILT_IN_PRICE_BOOK: PriceBook = {
  entries: [
    entry('claude-opus-4-5-20251101', '2025-11-24', rates(5, 25)),
    entry('claude-haiku-4-5-20251001', '2025-10-15', rates(1, 5)),
    withLongContext(entry('claude-sonnet-4-5-20250929', '2025-09-29', rates(3, 15))),
    entry('claude-opus-4-1-20250805', '2025-08-05', rates(15, 75)),
    entry('claude-opus-4-20250514', '2025-05-22', rates(15, 75)),
    withLongContext(entry('claude-sonnet-4-20250514', '2025-05-22', rates(3, 15))),
    entry('claude-3-7-sonnet-20250219', '2025-02-24', rates(3, 15)),
    entry('claude-3-5-haiku-20241022', '2024-11-04', rates(0.8, 4)),
    entry('claude-3-haiku-20240307', '2024-03-13', rates(0.25, 1.25)),
  ],
  aliases: {
    'claude-opus-4-5': 'claude-opus-4-5-20251101',
    'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
    'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
    'claude-opus-4-1': 'claude-opus-4-1-20250805',
    'claude-opus-4-0': 'claude-opus-4-20250514',
    'claude-sonnet-4-0': 'claude-sonnet-4-20250514',
    'claude-3-7-sonnet-latest': 'claude-3-7-sonnet-20250219',
    'claude-3-5-haiku-latest': 'claude-3-5-haiku-20241022',
  },
};

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const rate = z.number().finite().min(0);
const ModelName = z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/);
const tokens = z.number().int().positive();
const RatesSchema = z.strictObject({
  input: rate,
  output: rate,
  cacheWrite5m: rate,
  cacheWrite1h: rate,
  cacheRead: rate,
  batchInput: rate,
  batchOutput: rate,
});
const EntrySchema = z
  .strictObject({
    model: ModelName,
    effectiveFrom: z.string().regex(DAY),
    maxInputTokens: tokens.default(200_000),
    rates: RatesSchema,
    longContext: z
      .strictObject({
        beta: z.string().regex(/^[a-z0-9-]{1,64}$/),
        thresholdTokens: tokens,
        maxInputTokens: tokens,
        rates: RatesSchema,
      })
      .optional(),
    // Omitted means the published fee, never no fee: a search is not free by omission.
    serverToolFees: z
      .strictObject({ webSearchPerRequest: z.number().int().min(0) })
      .default({ webSearchPerRequest: WEB_SEARCH_MICROUSD_PER_REQUEST }),
  })
  .refine(
    (e) =>
      !e.longContext ||
      (e.longContext.thresholdTokens <= e.maxInputTokens &&
        e.longContext.maxInputTokens > e.maxInputTokens),
    {
      message: 'longContext needs thresholdTokens ≤ maxInputTokens < longContext.maxInputTokens',
      path: ['longContext'],
    },
  );
const FileSchema = z.strictObject({
  entries: z.array(EntrySchema).default([]),
  aliases: z.record(ModelName, ModelName).default({}),
});

/**
 * The built-in book, extended by a JSON file (`{"entries": [...], "aliases": {...}}`) when one
 * is named. A file that does not parse is an error at start-up, never a silently empty book.
 */
export function loadPriceBook(file?: string): PriceBook {
  if (!file) return BUILT_IN_PRICE_BOOK;
  const parsed = FileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`price book ${file} is invalid: ${z.prettifyError(parsed.error)}`);
  }
  const entries = parsed.data.entries.map(({ longContext, ...e }): PriceEntry =>
    longContext ? { ...e, longContext } : e,
  );
  return {
    entries: [...BUILT_IN_PRICE_BOOK.entries, ...entries],
    aliases: { ...BUILT_IN_PRICE_BOOK.aliases, ...parsed.data.aliases },
  };
}

/** The exact model id a name stands for: an alias the book knows, else the name itself. */
export function canonicalModel(book: PriceBook, name: string): string {
  return Object.hasOwn(book.aliases, name) ? (book.aliases[name] as string) : name;
}

/** The entry in force for a model (exact id or known alias) at an instant, if it is priced. */
export function priceOf(book: PriceBook, name: string, at: Date): PriceEntry | undefined {
  const model = canonicalModel(book, name);
  const day = at.toISOString().slice(0, 10);
  let best: PriceEntry | undefined;
  for (const e of book.entries) {
    if (e.model !== model || e.effectiveFrom > day) continue;
    if (!best || e.effectiveFrom >= best.effectiveFrom) best = e;
  }
  return best;
}
