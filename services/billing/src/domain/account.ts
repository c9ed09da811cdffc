import { InvalidArgumentError } from '@fortress/kit/errors';
import { dayOf, formatDay, type Day } from './cycle.js';
import type { BillingTier, CustomPrices } from './price-plan.js';
import { checkSeatChange, type NewSeatEvent, type SeatEvent } from './seat-ledger.js';

/** An org's billing account. */
export interface BillingAccount {
  orgId: string;
  tier: BillingTier;
  /** The sign-up day; cycles start on its day of the month. */
  anchor: Day;
  /** Zero Trust only. */
  customPrices: CustomPrices | undefined;
}

/**
 * Refuses a seat change the ledger cannot take: one effective before the sign-up day falls in
 * no billing cycle, and one that contradicts the user's history for the product.
 * `history` holds that user's events for that product.
 */
export function acceptSeatChange(
  account: BillingAccount,
  history: readonly SeatEvent[],
  next: NewSeatEvent,
): void {
  if (dayOf(next.at) < account.anchor)
    throw new InvalidArgumentError(
      'effective_at',
      `effective_at ${next.at.toISOString()} is before the account's first billing cycle (${formatDay(account.anchor)})`,
    );
  checkSeatChange(history, next);
}
