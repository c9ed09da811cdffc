/**
 * Billing days are UTC calendar days, written "YYYY-MM-DD" and handled as day numbers (days
 * since 1970-01-01) so that arithmetic never meets a time zone or a DST change.
 *
 * Cycles are anchored on the sign-up day: each one starts on the anchor's day of the month, or
 * on the month's last day when the month is shorter, and ends the day before the next starts.
 * Anchored on the 31st: Jan 31 → Feb 27, Feb 28 → Mar 30, Mar 31 → Apr 29, Apr 30 → May 30
 * (in a leap year Jan 31 → Feb 28, Feb 29 → Mar 30). One cycle starts in every month, on the
 * day customers expect ("the 31st, or the last day"), as card processors bill.
 */

const DAY_MS = 86_400_000;
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A UTC calendar day as a number of days since the epoch. */
export type Day = number;

/** One billing cycle, both ends inclusive. */
export interface Cycle {
  start: Day;
  end: Day;
  /** end - start + 1: the pro-rata denominator. */
  days: number;
}

/** The day "YYYY-MM-DD" names, or undefined when it is not a real date. */
export function parseDay(text: string): Day | undefined {
  const m = DATE_PATTERN.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d)
    return undefined;
  return ms / DAY_MS;
}

/** "YYYY-MM-DD" of a day. */
export function formatDay(day: Day): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The UTC day an instant falls on. */
export function dayOf(instant: Date): Day {
  return Math.floor(instant.getTime() / DAY_MS);
}

const daysInMonth = (year: number, month0: number) =>
  new Date(Date.UTC(year, month0 + 1, 0)).getUTCDate();

/** The cycle start in the month `monthsAfter` months after the anchor's month. */
function startInMonth(anchor: Day, monthsAfter: number): Day {
  const a = new Date(anchor * DAY_MS);
  const total = a.getUTCMonth() + monthsAfter;
  const year = a.getUTCFullYear() + Math.floor(total / 12);
  const month0 = ((total % 12) + 12) % 12;
  const day = Math.min(a.getUTCDate(), daysInMonth(year, month0));
  return Date.UTC(year, month0, day) / DAY_MS;
}

/** The `index`th cycle (0 = the one starting on the anchor). */
export function cycleAt(anchor: Day, index: number): Cycle {
  const start = startInMonth(anchor, index);
  const end = startInMonth(anchor, index + 1) - 1;
  return { start, end, days: end - start + 1 };
}

/** The cycle containing `day`, or undefined before the anchor (no cycle yet). */
export function cycleContaining(anchor: Day, day: Day): Cycle | undefined {
  if (day < anchor) return undefined;
  const a = new Date(anchor * DAY_MS);
  const d = new Date(day * DAY_MS);
  let index = (d.getUTCFullYear() - a.getUTCFullYear()) * 12 + d.getUTCMonth() - a.getUTCMonth();
  // The month's own cycle may not have started yet on this day.
  while (index > 0 && startInMonth(anchor, index) > day) index--;
  return cycleAt(anchor, index);
}

/** The cycle that starts on `start`, or undefined when no cycle starts that day. */
export function cycleStartingOn(anchor: Day, start: Day): Cycle | undefined {
  const cycle = cycleContaining(anchor, start);
  return cycle?.start === start ? cycle : undefined;
}
