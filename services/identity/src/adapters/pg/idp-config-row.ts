import type { IdpConfig } from '../../domain/idp-config.js';

/** An idp_configs row, from a query or as the jsonb authenticate_key returns. */
export interface IdpConfigRow {
  issuer: string;
  audiences: string[];
  jwks_uri: string;
  algorithms: string[];
  user_id_claim: string;
  email_claims: string[];
  device_id_claim: string;
  attribute_claims: string[];
  groups_claim: string;
  group_roles: Record<string, string[]>;
  /** A Date from a column, an ISO string from jsonb. */
  updated_at: Date | string;
}

/** A stored configuration as the domain uses it. */
export function idpConfigFromRow(r: IdpConfigRow): IdpConfig {
  return {
    issuer: r.issuer,
    audiences: r.audiences,
    jwksUri: r.jwks_uri,
    algorithms: r.algorithms,
    userIdClaim: r.user_id_claim,
    emailClaims: r.email_claims,
    deviceIdClaim: r.device_id_claim,
    attributeClaims: r.attribute_claims,
    groupsClaim: r.groups_claim,
    // JSON.parse makes "__proto__" an own key; copying onto a null prototype keeps it one.
    groupRoles: Object.assign(Object.create(null) as Record<string, string[]>, r.group_roles),
    updatedAt: new Date(r.updated_at),
  };
}
