/** The action of a billed PAT request (what the spend cap counts). */
export const PAT_MESSAGES_ACTION = 'pat:messages.create';

/**
 * The counts of `fortress.common.v1.Usage` (tokens, and server tool uses such as web searches),
 * under their protobuf JSON names: the names the stored events use, and the message's own
 * field names in TypeScript.
 */
export const USAGE_FIELDS = [
  'inputTokens',
  'outputTokens',
  'cacheCreationInputTokens',
  'cacheReadInputTokens',
  'cacheCreation5mInputTokens',
  'cacheCreation1hInputTokens',
  'webSearchRequests',
] as const;

/** Usage counts summed over requests. */
export type UsageCounts = Record<(typeof USAGE_FIELDS)[number], bigint>;

/** What a number of requests used: how many, their tokens and their spend. */
export interface UsageTotals {
  requests: bigint;
  tokens: UsageCounts;
  spendMicrousd: bigint;
}

/** One model's share of a PAT key's usage. */
export interface ModelUsage extends UsageTotals {
  /** The model id, without the resource's "model:" prefix. */
  model: string;
}

/** A PAT key's usage over a window: per model (highest spend first), and its denied requests. */
export interface PatUsage {
  models: ModelUsage[];
  denied: bigint;
}

/** A window of time, [since, until), in microseconds since the epoch (PostgreSQL's precision). */
export interface UsageWindow {
  sinceUs: bigint;
  untilUs: bigint;
}

/** The sum of every model's usage. */
export function totalOf(models: ModelUsage[]): UsageTotals {
  const total: UsageTotals = {
    requests: 0n,
    tokens: Object.fromEntries(USAGE_FIELDS.map((f) => [f, 0n])) as UsageCounts,
    spendMicrousd: 0n,
  };
  for (const m of models) {
    total.requests += m.requests;
    total.spendMicrousd += m.spendMicrousd;
    for (const f of USAGE_FIELDS) total.tokens[f] += m.tokens[f];
  }
  return total;
}

/** Microseconds since the epoch of a time. */
export const microsOf = (at: Date): bigint => BigInt(at.getTime()) * 1000n;

/** The first instant of the calendar month (UTC) that `at` falls in: where a spend cap restarts. */
export function monthStartUtc(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** An instant as ISO 8601 to the microsecond, which PostgreSQL reads exactly (from 1970 on). */
export function isoMicros(us: bigint): string {
  const iso = new Date(Number(us / 1000n)).toISOString();
  return `${iso.slice(0, -1)}${String(us % 1000n).padStart(3, '0')}Z`;
}
