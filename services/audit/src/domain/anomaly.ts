import type { AnomalyParams } from './alert-settings.js';

/** The history an hour is compared with: the 168 hours (7 days) before it. */
export const HISTORY_HOURS = 7 * 24;

const HOUR_MS = 3600_000;

/** Decisions of one user in one hour. */
export interface HourCounts {
  requests: number;
  denies: number;
}

/** The mean and (population) standard deviation of hourly counts. */
export interface Baseline {
  mean: number;
  stddev: number;
}

/** One metric that was far above its baseline. */
export interface Signal extends Baseline {
  metric: 'requests' | 'denies';
  count: number;
  /** mean + k·σ: a count above this (and at least the floor) is anomalous. */
  limit: number;
  floor: number;
}

/** An anomalous hour of one user, with why in words. */
export interface Finding {
  subjectId: string;
  hour: Date;
  counts: HourCounts;
  baselines: Record<Signal['metric'], Baseline>;
  signals: Signal[];
  explanation: string;
}

/** The start of the UTC hour that holds `t`. */
export function hourOf(t: Date): Date {
  return new Date(Math.floor(t.getTime() / HOUR_MS) * HOUR_MS);
}

/**
 * Mean and standard deviation over `hours` hourly counts, of which only the non-zero ones are
 * given: an hour without a decision counts as zero, so a user active a few hours a day has a
 * low mean and a wide deviation, and a new user has both at zero.
 */
export function baseline(counts: readonly number[], hours = HISTORY_HOURS): Baseline {
  const mean = counts.reduce((a, b) => a + b, 0) / hours;
  const squares = counts.reduce((a, c) => a + (c - mean) ** 2, 0);
  const zeros = (hours - counts.length) * mean ** 2;
  return { mean, stddev: Math.sqrt((squares + zeros) / hours) };
}

/** A number as people read it: whole, or with one decimal. */
export function shown(n: number): string {
  const r = Math.round(n * 10) / 10;
  return Number.isInteger(r) ? String(r) : r.toFixed(1);
}

function sentence(subjectId: string, hour: Date, s: Signal, k: number): string {
  const from = `${hour.toISOString().slice(0, 13).replace('T', ' ')}:00 UTC`;
  const did =
    s.metric === 'requests' ? `made ${s.count} requests` : `had ${s.count} requests denied`;
  const what = s.metric === 'requests' ? 'requests' : 'denied requests';
  return (
    `${subjectId} ${did} in the hour from ${from}; their hourly mean is ${shown(s.mean)} ` +
    `(σ ${shown(s.stddev)}) over the previous 7 days, and more than ${shown(s.limit)} ` +
    `(mean + ${shown(k)}σ) and at least ${s.floor} ${what} in an hour is flagged.`
  );
}

/**
 * Decides whether one user's hour is anomalous: for requests and for denies, the count must
 * exceed the user's own mean + k·σ over the previous 7 days of hourly counts AND reach an
 * absolute floor (so a quiet or new user's first small burst is not an anomaly). `history`
 * holds the non-zero hours of those 7 days. Undefined when nothing is anomalous.
 */
export function detect(
  subjectId: string,
  hour: Date,
  counts: HourCounts,
  history: readonly HourCounts[],
  p: AnomalyParams,
): Finding | undefined {
  const baselines = {
    requests: baseline(history.map((h) => h.requests).filter((n) => n > 0)),
    denies: baseline(history.map((h) => h.denies).filter((n) => n > 0)),
  };
  const floors = { requests: p.minRequests, denies: p.minDenies };
  const signals: Signal[] = [];
  for (const metric of ['requests', 'denies'] as const) {
    const b = baselines[metric];
    const limit = b.mean + p.k * b.stddev;
    const count = counts[metric];
    if (count > limit && count >= floors[metric])
      signals.push({ metric, count, ...b, limit, floor: floors[metric] });
  }
  if (signals.length === 0) return undefined;
  return {
    subjectId,
    hour,
    counts,
    baselines,
    signals,
    explanation: signals.map((s) => sentence(subjectId, hour, s, p.k)).join(' '),
  };
}
