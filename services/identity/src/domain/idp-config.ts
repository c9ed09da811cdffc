import { isIP } from 'node:net';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip, requireNames } from '@fortress/kit/validate';

/** JWS algorithms an IdP may sign with: asymmetric only (an HMAC key would be public). */
export const IDP_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
/** What an org gets when it names no algorithms. */
export const DEFAULT_IDP_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'];
const KNOWN_ALGORITHMS = new Set<string>(IDP_ALGORITHMS);
const DEFAULT_EMAIL_CLAIMS = ['email', 'preferred_username', 'upn'];
/** Claim names: plain names or URIs (Entra ID and ADFS use some). */
const CLAIM_PATTERN = /^[A-Za-z0-9_.:/-]{1,256}$/;
const MAX_AUDIENCES = 10;
const MAX_ATTRIBUTES = 32;
const MAX_GROUP_MAPPINGS = 200;

/** An org's identity provider, as stored and used. */
export interface IdpConfig {
  issuer: string;
  audiences: string[];
  jwksUri: string;
  algorithms: string[];
  userIdClaim: string;
  emailClaims: string[];
  deviceIdClaim: string;
  attributeClaims: string[];
  /** '' when groups grant no roles. */
  groupsClaim: string;
  /** Roles granted by group. */
  groupRoles: Record<string, string[]>;
  updatedAt: Date;
}

/** What an admin sets: an IdpConfig whose optional parts may be empty. */
export type IdpConfigInput = Omit<IdpConfig, 'updatedAt'>;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for a loopback host as the URL parser spells it. */
function isLoopback(hostname: string): boolean {
  if (LOOPBACK_NAMES.has(hostname)) return true;
  return isIP(hostname) === 4 && hostname.startsWith('127.');
}

/**
 * Requires an absolute https URL without credentials or fragment; http only for a loopback
 * host (a local IdP in development and tests). Keys fetched over plain http from anywhere
 * else could be swapped on the way, and every token with them.
 */
export function requireIdpUrl(field: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new InvalidArgumentError(field, `${field} must be an absolute URL, got "${clip(value)}"`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname)))
    throw new InvalidArgumentError(
      field,
      `${field} must be an https URL (http only for loopback hosts), got "${clip(value)}"`,
    );
  if (url.username || url.password || url.hash)
    throw new InvalidArgumentError(field, `${field} must not carry credentials or a fragment`);
  // The issuer is compared with "iss" exactly, so it is kept exactly as given.
  return value.trim();
}

/** Requires one claim name. */
function requireClaim(field: string, value: string, fallback?: string): string {
  const v = value.trim() || fallback || '';
  if (!CLAIM_PATTERN.test(v))
    throw new InvalidArgumentError(field, `${field} must be a claim name, got "${clip(v)}"`);
  return v;
}

/** Requires a list of claim names (deduplicated), within a bound. */
function requireClaims(field: string, values: string[], max: number): string[] {
  if (values.length > max)
    throw new InvalidArgumentError(field, `${field} may have at most ${max} entries`);
  return [...new Set(values.map((v, i) => requireClaim(`${field}[${i}]`, v)))];
}

/** Requires known asymmetric algorithms; the defaults when none are named. */
function requireAlgorithms(values: string[]): string[] {
  if (values.length === 0) return [...DEFAULT_IDP_ALGORITHMS];
  for (const alg of values) {
    if (!KNOWN_ALGORITHMS.has(alg))
      throw new InvalidArgumentError(
        'config.algorithms',
        `config.algorithms has an unsupported algorithm "${clip(alg)}" (allowed: ${IDP_ALGORITHMS.join(', ')}; "none" and HMAC are never accepted)`,
      );
  }
  return [...new Set(values)];
}

/** Validates an admin's IdP configuration and fills in the defaults. */
export function validateIdpConfig(input: IdpConfigInput): IdpConfigInput {
  const issuer = requireIdpUrl('config.issuer', input.issuer);
  const jwksUri = requireIdpUrl('config.jwks_uri', input.jwksUri);
  const audiences = [...new Set(input.audiences.map((a) => a.trim()))];
  if (audiences.length === 0)
    throw new InvalidArgumentError('config.audiences', 'config.audiences needs at least one');
  if (audiences.length > MAX_AUDIENCES)
    throw new InvalidArgumentError(
      'config.audiences',
      `config.audiences may have at most ${MAX_AUDIENCES} entries`,
    );
  for (const a of audiences) {
    if (!a || a.length > 256 || /\s/.test(a))
      throw new InvalidArgumentError(
        'config.audiences',
        `config.audiences has an invalid entry "${clip(a)}"`,
      );
  }
  const groupsClaim = input.groupsClaim.trim()
    ? requireClaim('config.groups_claim', input.groupsClaim)
    : '';
  const groups = Object.entries(input.groupRoles);
  if (groups.length > MAX_GROUP_MAPPINGS)
    throw new InvalidArgumentError(
      'config.group_roles',
      `config.group_roles may have at most ${MAX_GROUP_MAPPINGS} entries`,
    );
  if (groups.length > 0 && !groupsClaim)
    throw new InvalidArgumentError(
      'config.groups_claim',
      'config.groups_claim is required when config.group_roles is set',
    );
  // No prototype: a group named "__proto__" is just a group.
  const groupRoles = Object.create(null) as Record<string, string[]>;
  for (const [group, roles] of groups) {
    if (!group || group.length > 256)
      throw new InvalidArgumentError('config.group_roles', 'config.group_roles has an empty group');
    if (roles.length === 0)
      throw new InvalidArgumentError(
        'config.group_roles',
        `config.group_roles maps group "${clip(group)}" to no role`,
      );
    groupRoles[group] = [
      ...new Set([
        ...(Object.hasOwn(groupRoles, group) ? (groupRoles[group] ?? []) : []),
        ...requireNames('config.group_roles', roles),
      ]),
    ];
  }
  return {
    issuer,
    audiences,
    jwksUri,
    algorithms: requireAlgorithms(input.algorithms),
    userIdClaim: requireClaim('config.user_id_claim', input.userIdClaim, 'sub'),
    emailClaims: input.emailClaims.length
      ? requireClaims('config.email_claims', input.emailClaims, 8)
      : [...DEFAULT_EMAIL_CLAIMS],
    deviceIdClaim: requireClaim('config.device_id_claim', input.deviceIdClaim, 'deviceid'),
    attributeClaims: requireClaims(
      'config.attribute_claims',
      input.attributeClaims,
      MAX_ATTRIBUTES,
    ),
    groupsClaim,
    groupRoles,
  };
}
