import { InvalidArgumentError } from './errors.js';
import { ID_PATTERN } from './ids.js';

/** Requires an id of our shape (`org_…`); names the field when it is not. */
export function requireId(field: string, value: string, prefix?: string): string {
  if (!ID_PATTERN.test(value) || (prefix !== undefined && !value.startsWith(`${prefix}_`))) {
    const shape = prefix
      ? `"${prefix}_" followed by letters and digits`
      : 'an id like "org_123abc"';
    throw new InvalidArgumentError(field, `${field} must be ${shape}, got "${clip(value)}"`);
  }
  return value;
}

/** Requires non-blank text of at most `max` characters. */
export function requireText(field: string, value: string, max = 200): string {
  const trimmed = value.trim();
  if (!trimmed) throw new InvalidArgumentError(field, `${field} is required`);
  if (trimmed.length > max)
    throw new InvalidArgumentError(field, `${field} must be at most ${max} characters`);
  return trimmed;
}

/** Requires each name to be a simple identifier (roles, models, attributes). */
export function requireNames(
  field: string,
  values: string[],
  pattern = /^[A-Za-z0-9_.:-]{1,128}$/,
): string[] {
  for (const v of values) {
    if (!pattern.test(v))
      throw new InvalidArgumentError(field, `${field} has an invalid entry "${clip(v)}"`);
  }
  return values;
}

/** Page size clamped to [1, max], with a default for 0. */
export function pageSize(requested: number, fallback = 50, max = 500): number {
  if (requested === 0) return fallback;
  return Math.min(Math.max(requested, 1), max);
}

/** Encodes a keyset cursor (the last id seen) as an opaque page token. */
export function encodePageToken(lastId: string): string {
  return Buffer.from(lastId, 'utf8').toString('base64url');
}

/** Decodes a page token; "" for the first page. */
export function decodePageToken(field: string, token: string): string {
  if (!token) return '';
  const id = Buffer.from(token, 'base64url').toString('utf8');
  if (!ID_PATTERN.test(id))
    throw new InvalidArgumentError(field, `${field} is not a valid page token`);
  return id;
}

/** Quotes user input in messages without echoing unbounded text. */
export function clip(value: string, max = 64): string {
  return value.length > max ? `${value.slice(0, max)}…` : value;
}
