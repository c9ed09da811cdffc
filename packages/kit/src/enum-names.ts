import { Product, Tier } from '@fortress/proto/common/v1/common_pb';

const TIER_NAMES: Record<string, Tier> = {
  soho: Tier.SOHO,
  bank: Tier.BANK,
  zero_trust: Tier.ZERO_TRUST,
};

const PRODUCT_NAMES: Record<string, Product> = {
  mcp: Product.MCP,
  pat: Product.PAT,
  admin: Product.ADMIN,
};

/** The stored name of a tier ("soho", "bank", "zero_trust"); undefined for UNSPECIFIED. */
export function tierName(tier: Tier): string | undefined {
  return Object.keys(TIER_NAMES).find((k) => TIER_NAMES[k] === tier);
}

/** The tier a stored name stands for; UNSPECIFIED for anything unknown. */
export function tierFromName(name: string): Tier {
  return TIER_NAMES[name] ?? Tier.UNSPECIFIED;
}

/** The stored name of a product ("mcp", "pat", "admin"). */
export function productName(product: Product): string | undefined {
  return Object.keys(PRODUCT_NAMES).find((k) => PRODUCT_NAMES[k] === product);
}

/** The product a stored name stands for; UNSPECIFIED for anything unknown. */
export function productFromName(name: string): Product {
  return PRODUCT_NAMES[name] ?? Product.UNSPECIFIED;
}
