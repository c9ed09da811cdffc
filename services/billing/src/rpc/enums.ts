import { SeatChange } from '@fortress/proto/billing/v1/billing_pb';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import { tierFromName, tierName } from '@fortress/kit/enum-names';
import { InvalidArgumentError } from '@fortress/kit/errors';
import type { BillingTier } from '../domain/price-plan.js';
import type { SeatChangeKind, SeatProduct } from '../domain/seat-ledger.js';

const PRODUCTS: Partial<Record<Product, SeatProduct>> = {
  [Product.MCP]: 'mcp',
  [Product.PAT]: 'pat',
};
const CHANGES: Partial<Record<SeatChange, SeatChangeKind>> = {
  [SeatChange.GRANTED]: 'granted',
  [SeatChange.REVOKED]: 'revoked',
};

/** The billing tier of a wire tier; unspecified or unknown ones are refused. */
export function tierFromProto(tier: Tier): BillingTier {
  const t = tierName(tier) as BillingTier | undefined;
  if (!t)
    throw new InvalidArgumentError(
      'tier',
      `tier must be TIER_SOHO, TIER_BANK or TIER_ZERO_TRUST, got "${Tier[tier] ?? tier}"`,
    );
  return t;
}

/** The wire tier of a billing tier. */
export function tierToProto(tier: BillingTier): Tier {
  return tierFromName(tier);
}

/** The seat product of a wire product: MCP or PAT, nothing else holds a seat. */
export function productFromProto(product: Product): SeatProduct {
  const p = PRODUCTS[product];
  if (!p)
    throw new InvalidArgumentError(
      'product',
      `product must be PRODUCT_MCP or PRODUCT_PAT, got "${Product[product] ?? product}"`,
    );
  return p;
}

/** Granted or revoked. */
export function changeFromProto(change: SeatChange): SeatChangeKind {
  const c = CHANGES[change];
  if (!c)
    throw new InvalidArgumentError(
      'change',
      `change must be SEAT_CHANGE_GRANTED or SEAT_CHANGE_REVOKED, got "${SeatChange[change] ?? change}"`,
    );
  return c;
}
