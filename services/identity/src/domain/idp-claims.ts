import type { JWTPayload } from 'jose';
import type { IdpConfig } from './idp-config.js';

/** Who an IdP token says the user is, mapped through the org's configuration. */
export interface IdpUser {
  userId: string;
  /** '' when the token carries none. */
  email: string;
  deviceId: string;
  /** The configured claims the token carries, as text. */
  attributes: Record<string, string>;
  /** Roles the user's groups grant (sorted, no duplicates). */
  groupRoles: string[];
}

/** Longest id, email or attribute value kept; longer ones are refused or dropped. */
const MAX_VALUE = 256;

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_VALUE ? v : undefined;

/** A scalar claim as text; arrays of scalars joined with ","; anything else dropped. */
function attributeText(v: unknown): string | undefined {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number'))
    return text(v.join(','));
  return text(v);
}

/** The group names a groups claim carries (one name, or a list of names). */
function groupsOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === 'string');
  return [];
}

/**
 * Maps a verified token's claims to a user: the user id from the configured claim (required),
 * the first email claim present, the device id, the configured attributes and the roles of
 * the user's groups. Undefined when the token names no usable user id.
 */
export function userFromClaims(config: IdpConfig, claims: JWTPayload): IdpUser | undefined {
  const userId = text(claims[config.userIdClaim]);
  if (!userId) return undefined;
  let email = '';
  for (const name of config.emailClaims) {
    const v = text(claims[name]);
    if (v?.includes('@')) {
      email = v.toLowerCase();
      break;
    }
  }
  const attributes: Record<string, string> = {};
  for (const name of config.attributeClaims) {
    const v = attributeText(claims[name]);
    if (v !== undefined) attributes[name] = v;
  }
  const roles = new Set<string>();
  if (config.groupsClaim) {
    for (const group of groupsOf(claims[config.groupsClaim])) {
      // Own entries only: a group named "constructor" must not reach Object.prototype.
      if (!Object.hasOwn(config.groupRoles, group)) continue;
      for (const role of config.groupRoles[group] ?? []) roles.add(role);
    }
  }
  return {
    userId,
    email,
    deviceId: text(claims[config.deviceIdClaim]) ?? '',
    attributes,
    groupRoles: [...roles].sort(),
  };
}
