import { Product, Tier } from '@fortress/proto/common/v1/common_pb';

const TIER_NAMES = new Map<string, Tier>([
  ['soho', Tier.SOHO],
  ['bank', Tier.BANK],
  ['zero_trust', Tier.ZERO_TRUST],
]);

const PRODUCT_NAMES = new Map<string, Product>([
  ['mcp', Product.MCP],
  ['pat', Product.PAT],
  ['admin', Product.ADMIN],
]);

/** The name a map gives a value, if any. */
const nameOf = <V>(names: Map<string, V>, value: V) => [...names].find(([, v]) => v === value)?.[0];

/** The stored name of a tier ("soho", "bank", "zero_trust"); undefined for UNSPECIFIED. */
export function tierName(tier: Tier): string | undefined {
  return nameOf(TIER_NAMES, tier);
}

/** The tier a stored name stands for; UNSPECIFIED for anything unknown. */
export function tierFromName(name: string): Tier {
  return TIER_NAMES.get(name) ?? Tier.UNSPECIFIED;
}

/** The stored name of a product ("mcp", "pat", "admin"). */
export function productName(product: Product): string | undefined {
  return nameOf(PRODUCT_NAMES, product);
}

/** The product a stored name stands for; UNSPECIFIED for anything unknown. */
export function productFromName(name: string): Product {
  return PRODUCT_NAMES.get(name) ?? Product.UNSPECIFIED;
}
