/**
 * Money is integer cents, never floats. Pro-rata amounts are exact fractions until the one
 * rounding step: half-up (away from zero for credits) to the cent, once per invoice line.
 */

/** `numerator / denominator` rounded half-up; both non-negative integers, denominator > 0. */
export function divRoundHalfUp(numerator: number, denominator: number): number {
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator <= 0)
    throw new RangeError(`cannot divide ${numerator} by ${denominator} in cents`);
  const sign = numerator < 0 ? -1 : 1;
  const n = Math.abs(numerator);
  // floor((2n + d) / 2d) is n/d rounded half-up, in integers only.
  const q = Math.floor((2 * n + denominator) / (2 * denominator));
  return sign < 0 ? 0 - q : q;
}

/**
 * The charge for `users` seats at a monthly `rateCents` for `days` of a `cycleDays`-day cycle,
 * rounded half-up to the cent: 5 × $5 × 21/31 = 2 500 × 21 / 31 = 1 693.5… → 1 694 cents.
 */
export function proRata(rateCents: number, users: number, days: number, cycleDays: number): number {
  return divRoundHalfUp(rateCents * users * days, cycleDays);
}

/**
 * Splits `totalCents` among `count` users so the shares add up exactly: everyone gets the
 * floor, and the leftover cents go one each to the first users (largest-remainder method with
 * equal remainders, so the order of the users decides).
 */
export function allocate(totalCents: number, count: number): number[] {
  if (count <= 0) return [];
  const sign = totalCents < 0 ? -1 : 1;
  const abs = Math.abs(totalCents);
  const base = Math.floor(abs / count);
  const extra = abs - base * count;
  return Array.from({ length: count }, (_, i) => {
    const share = base + (i < extra ? 1 : 0);
    return sign < 0 ? 0 - share : share;
  });
}

/** Formats cents as dollars for people: 50371 → "$503.71", -90 → "-$0.90". */
export function formatUsd(cents: number): string {
  const abs = Math.abs(cents);
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${cents < 0 ? '-' : ''}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}
