import { KmsError, validationError } from './errors.js';
import type { JsonObject } from './wire.js';

/** An encryption context: string keys to string values. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Largest plaintext `Encrypt` accepts, in bytes (AWS limit). */
export const MAX_PLAINTEXT_BYTES = 4096;

/** Largest ciphertext blob accepted, in bytes (AWS limit). */
export const MAX_CIPHERTEXT_BYTES = 6144;

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function camel(field: string): string {
  return field.charAt(0).toLowerCase() + field.slice(1);
}

function wrongType(field: string, expected: string): KmsError {
  return new KmsError('SerializationException', `'${field}' must be ${expected}`);
}

/** A string field that may be absent; present values must be non-empty and short enough. */
export function optionalString(input: JsonObject, field: string, max = 2048): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(field, 'a string');
  if (value.length < 1 || value.length > max) {
    throw validationError(camel(field), `Member must have length between 1 and ${max}`);
  }
  return value;
}

/** A string field that must be present. */
export function requiredString(input: JsonObject, field: string, max = 2048): string {
  const value = optionalString(input, field, max);
  if (value === undefined) throw validationError(camel(field), 'Member must not be null');
  return value;
}

/** An integer field that may be absent; present values must lie in [min, max]. */
export function optionalInteger(
  input: JsonObject,
  field: string,
  min: number,
  max: number,
): number | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType(field, 'an integer');
  if (value < min || value > max) {
    throw validationError(camel(field), `Member must have value between ${min} and ${max}`);
  }
  return value;
}

/** A boolean field; absent means false. */
export function flag(input: JsonObject, field: string): boolean {
  const value = input[field];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean');
  return value;
}

/** A base64 blob field that must be present, with its decoded length in [1, max]. */
export function requiredBlob(input: JsonObject, field: string, max: number): Buffer {
  const value = input[field];
  if (value === undefined || value === null) {
    throw validationError(camel(field), 'Member must not be null');
  }
  if (typeof value !== 'string' || !BASE64.test(value)) throw wrongType(field, 'base64 text');
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length < 1 || bytes.length > max) {
    throw validationError(camel(field), `Member must have length between 1 and ${max}`);
  }
  return bytes;
}

/** A list of strings that may be absent (treated as empty). */
export function stringList(input: JsonObject, field: string, maxItems: number): string[] {
  const value = input[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw wrongType(field, 'a list of strings');
  }
  if (value.length > maxItems) {
    throw validationError(
      camel(field),
      `Member must have length less than or equal to ${maxItems}`,
    );
  }
  return value;
}

/** An encryption context map; absent means `{}`. */
export function encryptionContext(input: JsonObject, field: string): EncryptionContext {
  const value = input[field];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw wrongType(field, 'a map');
  const context: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value as JsonObject)) {
    if (typeof entry !== 'string') throw wrongType(`${field}.${key}`, 'a string');
    context[key] = entry;
  }
  return context;
}

/**
 * Checks `GrantTokens` for shape only (at most 10 non-empty strings). Grants take effect here at
 * once, so tokens add no permission and are not looked up.
 */
export function checkGrantTokens(input: JsonObject): void {
  for (const token of stringList(input, 'GrantTokens', 10)) {
    if (token.length < 1 || token.length > 8192) {
      throw validationError('grantTokens', 'Member must have length between 1 and 8192');
    }
  }
}

/** Refuses any `EncryptionAlgorithm` other than the only one symmetric keys support. */
export function checkSymmetricAlgorithm(input: JsonObject, field: string): void {
  const algorithm = optionalString(input, field, 64);
  if (algorithm !== undefined && algorithm !== 'SYMMETRIC_DEFAULT') {
    throw new KmsError(
      'InvalidKeyUsageException',
      `'${algorithm}' is not a supported encryption algorithm for a symmetric key`,
    );
  }
}
