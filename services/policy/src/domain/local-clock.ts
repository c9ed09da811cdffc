/** A moment as seen on a wall clock in one time zone. */
export interface LocalClock {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  day: number;
  /** The day before, for windows that span midnight. */
  prevDay: number;
  /** Minutes since local midnight. */
  minute: number;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** True when the runtime knows the IANA zone. */
export function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The local weekday and minute of `at` in `zone`, from the IANA database (so correct across
 * DST changes: the local clock is what a person in that zone reads).
 */
export function localClock(zone: string, at: Date): LocalClock {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(zone, f);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of f.formatToParts(at)) {
    if (part.type === 'weekday') day = WEEKDAYS[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, prevDay: day === 1 ? 7 : day - 1, minute: hour * 60 + minute };
}
