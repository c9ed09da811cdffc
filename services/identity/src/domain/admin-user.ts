import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip } from '@fortress/kit/validate';

/** The admin-plane roles a user may hold. */
export const ADMIN_ROLES = ['owner', 'admin', 'auditor', 'viewer'] as const;
const KNOWN = new Set<string>(ADMIN_ROLES);
/** Deliberately loose: the one thing we rely on is a single "@" with text on both sides. */
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;
const MAX_EMAIL_LENGTH = 254;

/** An email as stored and compared: trimmed and lowercased. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** Requires a plausible email address; the normalised form. */
export function requireEmail(field: string, email: string): string {
  const normalised = normaliseEmail(email);
  if (!normalised) throw new InvalidArgumentError(field, `${field} is required`);
  if (normalised.length > MAX_EMAIL_LENGTH || !EMAIL_PATTERN.test(normalised))
    throw new InvalidArgumentError(
      field,
      `${field} must be an email address, got "${clip(normalised)}"`,
    );
  return normalised;
}

/** Requires at least one admin-plane role, each known; duplicates dropped. */
export function requireAdminRoles(field: string, roles: string[]): string[] {
  if (roles.length === 0)
    throw new InvalidArgumentError(field, `${field} needs one of ${ADMIN_ROLES.join(', ')}`);
  for (const role of roles) {
    if (!KNOWN.has(role))
      throw new InvalidArgumentError(
        field,
        `${field} has an unknown role "${clip(role)}" (known: ${ADMIN_ROLES.join(', ')})`,
      );
  }
  return [...new Set(roles)];
}
