import { Tier } from '@fortress/proto/common/v1/common_pb';
import type { ChainPoint } from './chain.js';

/** The tiers as the retention table names them. */
export type TierName = 'soho' | 'bank' | 'zero_trust';

/** How long each tier keeps audit records (ISO 8601), as PRODUCT.md S7 says. */
export const RETENTION_PERIOD: Record<TierName, string> = {
  soho: 'P90D',
  bank: 'P1Y',
  zero_trust: 'P7Y',
};

/** The tier an org without a retention setting is treated as (the shortest retention). */
export const DEFAULT_TIER: TierName = 'soho';

/** The table name of a tier; undefined for TIER_UNSPECIFIED or an unknown value. */
export function tierName(tier: Tier): TierName | undefined {
  switch (tier) {
    case Tier.SOHO:
      return 'soho';
    case Tier.BANK:
      return 'bank';
    case Tier.ZERO_TRUST:
      return 'zero_trust';
    default:
      return undefined;
  }
}

/** The enum value of a tier name. */
export function tierOf(name: TierName): Tier {
  return { soho: Tier.SOHO, bank: Tier.BANK, zero_trust: Tier.ZERO_TRUST }[name];
}

/** A row as the retention job sees it. */
export interface AgedLink extends ChainPoint {
  recordedAt: Date;
}

/**
 * The last row of the longest prefix (in chain order) recorded before `cutoff`: what a
 * retention run may delete, and the anchor it signs. Stops at the first row that must be
 * kept, so retention only ever removes a prefix of the chain, even if clocks made
 * recorded_at go backwards somewhere.
 */
export function expiredPrefixEnd(rows: AgedLink[], cutoff: Date): AgedLink | undefined {
  let end: AgedLink | undefined;
  for (const r of rows) {
    if (r.recordedAt.getTime() >= cutoff.getTime()) break;
    end = r;
  }
  return end;
}
