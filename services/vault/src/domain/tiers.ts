import type { CacheBounds } from './data-key-cache.js';
import type { KeyPurpose, KeyTarget } from './ports.js';
import type { EpochRow, KeyConfigRow, Scheme, TierName } from './records.js';

/**
 * How long an unwrapped data key may be reused, per tier:
 * - SOHO: the default bounds (service-managed key; revocation is ours to decide);
 * - Bank: a short age, which is the bound on how long a revoked grant keeps working here — once
 *   a cached key ages out, the next unwrap asks the customer's KMS, which refuses;
 * - Zero Trust: never cached; the private key lives only inside a session.
 */
export interface TierBounds {
  soho: CacheBounds;
  bank: CacheBounds;
}

/** The scheme of data keys minted for a tier. */
export function schemeFor(tier: TierName): Scheme {
  return tier === 'zero_trust' ? 'p256' : 'aes';
}

/** The KMS encryption-context purpose of a scheme's data keys. */
export function purposeOf(scheme: Scheme): KeyPurpose {
  return scheme === 'p256' ? 'vault-zt-org-key' : 'vault-data-key';
}

/** Cache bounds for a data key of this tier; undefined means "never cache". */
export function cacheBoundsFor(tier: TierName, bounds: TierBounds): CacheBounds | undefined {
  if (tier === 'zero_trust') return undefined;
  return tier === 'bank' ? bounds.bank : bounds.soho;
}

/** The KMS key and endpoint behind a configuration or a stored epoch. */
export function targetOf(x: Pick<KeyConfigRow | EpochRow, 'kms_key_id' | 'kms_endpoint'>) {
  return { keyId: x.kms_key_id, endpoint: x.kms_endpoint } satisfies KeyTarget;
}

/** The configuration of an org that never set one: SOHO on the service-managed key. */
export function defaultConfig(orgId: string, rotationDays: number): KeyConfigRow {
  return {
    org_id: orgId,
    tier: 'soho',
    kms_key_id: '',
    kms_endpoint: '',
    grant_id: '',
    rotation_days: rotationDays,
    updated_at: new Date(0),
    updated_by: '',
  };
}

/** Why a key configuration is not acceptable, naming the field; undefined when it is. */
export function configProblem(
  c: Pick<KeyConfigRow, 'tier' | 'kms_key_id' | 'kms_endpoint' | 'rotation_days'>,
  allowedEndpoints: readonly string[],
): { field: string; message: string } | undefined {
  if (c.tier === 'soho' && (c.kms_key_id || c.kms_endpoint))
    return {
      field: 'config.kms_key_id',
      message: 'a SOHO org uses the service-managed key: leave kms_key_id and kms_endpoint empty',
    };
  if (c.tier !== 'soho' && !/^[A-Za-z0-9:/_+=,.@-]{1,2048}$/.test(c.kms_key_id))
    return {
      field: 'config.kms_key_id',
      message: "a Bank or Zero Trust org needs the customer's KMS key id or ARN",
    };
  if (c.kms_endpoint && !allowedEndpoints.includes(c.kms_endpoint))
    return {
      field: 'config.kms_endpoint',
      message: `kms_endpoint "${c.kms_endpoint.slice(0, 100)}" is not an endpoint this vault may call`,
    };
  if (!Number.isInteger(c.rotation_days) || c.rotation_days < 1 || c.rotation_days > 365)
    return { field: 'config.rotation_days', message: 'rotation_days must be between 1 and 365' };
  return undefined;
}

/** Whether moving from one configuration to another needs a new data key epoch. */
export function needsNewEpoch(from: KeyConfigRow, to: KeyConfigRow): boolean {
  return (
    from.tier !== to.tier ||
    from.kms_key_id !== to.kms_key_id ||
    from.kms_endpoint !== to.kms_endpoint
  );
}
