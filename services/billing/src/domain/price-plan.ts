import { InvalidArgumentError } from '@fortress/kit/errors';

/** The billing tiers (the seeds' pricing page). */
export type BillingTier = 'soho' | 'bank' | 'zero_trust';

/** Per-user monthly prices in cents, in the pack and above it. */
export interface Rates {
  single: number;
  bundle: number;
  overageSingle: number;
  overageBundle: number;
}

/** What an org pays: its rates and its pack. */
export interface PricePlan {
  tier: BillingTier;
  rates: Rates;
  packMin: number;
  /** Seats included before overage; undefined when the plan has no maximum. */
  packMax: number | undefined;
}

/** A Zero Trust org's negotiated prices: there are no defaults. */
export interface CustomPrices {
  singleCents: number;
  bundleCents: number;
  /** 0: no overage. */
  packMax: number;
  overageSingleCents: number;
  overageBundleCents: number;
}

/** Overage is 1.25× the standard rate; list prices are multiples of 4 cents, so it is exact. */
const overage = (cents: number) => (cents * 5) / 4;

const listed = (single: number, bundle: number): Rates => ({
  single,
  bundle,
  overageSingle: overage(single),
  overageBundle: overage(bundle),
});

/** The list tiers: SOHO 2–5 users at $3 / $5 bundle, Bank 5–150 at $5 / $8 bundle. */
const LIST: Record<'soho' | 'bank', PricePlan> = {
  soho: { tier: 'soho', rates: listed(300, 500), packMin: 2, packMax: 5 },
  bank: { tier: 'bank', rates: listed(500, 800), packMin: 5, packMax: 150 },
};

/** Zero Trust orgs start at 150 users. */
const ZERO_TRUST_PACK_MIN = 150;
/** No price above $10 000 per user per month is a real one: it is a typo in cents. */
const MAX_RATE_CENTS = 1_000_000;

const cents = (field: string, value: number) => {
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_RATE_CENTS)
    throw new InvalidArgumentError(
      field,
      `${field} must be a whole number of cents between 1 and ${MAX_RATE_CENTS}, got ${value}`,
    );
  return value;
};

/**
 * Checks the prices an account is set up with: list tiers take none, Zero Trust must have all
 * of them. The bundle may not cost more than both products apart (the credit would be negative).
 */
export function validatePrices(
  tier: BillingTier,
  custom: CustomPrices | undefined,
): CustomPrices | undefined {
  const field = 'custom_prices';
  if (tier !== 'zero_trust') {
    if (custom)
      throw new InvalidArgumentError(
        field,
        `${field} are for zero trust only; ${tier} uses list prices`,
      );
    return undefined;
  }
  if (!custom) throw new InvalidArgumentError(field, `${field} are required for zero trust`);
  const single = cents(`${field}.single_cents`, custom.singleCents);
  const bundle = cents(`${field}.bundle_cents`, custom.bundleCents);
  if (bundle > 2 * single)
    throw new InvalidArgumentError(
      `${field}.bundle_cents`,
      `${field}.bundle_cents (${bundle}) must be at most twice single_cents (${single})`,
    );
  if (!Number.isSafeInteger(custom.packMax) || custom.packMax < 0)
    throw new InvalidArgumentError(
      `${field}.pack_max`,
      `${field}.pack_max must be 0 or more, got ${custom.packMax}`,
    );
  if (custom.packMax === 0) return { ...custom, overageSingleCents: 0, overageBundleCents: 0 };
  if (custom.packMax < ZERO_TRUST_PACK_MIN)
    throw new InvalidArgumentError(
      `${field}.pack_max`,
      `${field}.pack_max must be at least ${ZERO_TRUST_PACK_MIN} for zero trust, got ${custom.packMax}`,
    );
  cents(`${field}.overage_single_cents`, custom.overageSingleCents);
  cents(`${field}.overage_bundle_cents`, custom.overageBundleCents);
  if (custom.overageBundleCents > 2 * custom.overageSingleCents)
    throw new InvalidArgumentError(
      `${field}.overage_bundle_cents`,
      `${field}.overage_bundle_cents must be at most twice overage_single_cents`,
    );
  return custom;
}

/** The plan of a tier; Zero Trust's comes from its (validated) custom prices. */
export function pricePlan(tier: BillingTier, custom: CustomPrices | undefined): PricePlan {
  if (tier !== 'zero_trust') return LIST[tier];
  if (!custom) throw new Error('zero trust account without custom prices');
  return {
    tier,
    rates: {
      single: custom.singleCents,
      bundle: custom.bundleCents,
      overageSingle: custom.overageSingleCents,
      overageBundle: custom.overageBundleCents,
    },
    packMin: ZERO_TRUST_PACK_MIN,
    packMax: custom.packMax > 0 ? custom.packMax : undefined,
  };
}
