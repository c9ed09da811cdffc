import type { CredentialMeta } from './records.js';

/** Why a credential version is not served; stable, safe to show. */
export type VersionRefusal =
  | 'credential_not_found'
  | 'credential_version_retired'
  | 'credential_expired'
  | 'credential_revoked';

/** The longest overlap a rotation may ask for. */
export const MAX_OVERLAP_SECONDS = 30 * 24 * 3600;

/**
 * Whether a stored version may be served now:
 * - the active version, unless past its expiry;
 * - a rotated version only until its overlap window ends — then it is retired, and refused
 *   with its own reason so that callers can tell "rotate your pin" from "never existed".
 */
export function servable(
  row: Pick<CredentialMeta, 'status' | 'expires_at' | 'overlap_until'>,
  now: Date,
): VersionRefusal | undefined {
  if (row.expires_at && row.expires_at <= now) return 'credential_expired';
  switch (row.status) {
    case 'active':
      return undefined;
    case 'rotated':
      return row.overlap_until && row.overlap_until > now
        ? undefined
        : 'credential_version_retired';
    case 'revoked':
      return 'credential_revoked';
    default:
      return 'credential_expired';
  }
}

/**
 * Why nothing was found for a version: a version below the newest one existed and was
 * rotated out (and shredded); anything else never existed.
 */
export function missingVersion(version: number, newestVersion: number | undefined): VersionRefusal {
  return newestVersion !== undefined && version > 0 && version < newestVersion
    ? 'credential_version_retired'
    : 'credential_not_found';
}

/** The overlap window of a rotation: asked for, else the default for the kind, capped. */
export function overlapSeconds(
  requested: number,
  kind: string,
  defaults: { patSeconds: number; otherSeconds: number },
): number {
  if (requested > 0) return Math.min(requested, MAX_OVERLAP_SECONDS);
  return kind === 'ANTHROPIC_KEY' ? defaults.patSeconds : defaults.otherSeconds;
}

/** The status an admin sees for a credential's newest version. */
export function shownStatus(row: Pick<CredentialMeta, 'status' | 'expires_at'>, now: Date): string {
  return row.expires_at && row.expires_at <= now ? 'expired' : row.status;
}
