/**
 * Total readers for vendor JSON, which is `unknown` until proven otherwise: each returns the
 * value when it has the expected type and a neutral value (or `null`) when it does not, so a
 * mapping never throws on a surprising body and the output schema check has the last word.
 */
import type { JsonPath } from './types.js';

/** The value at `path`, or `undefined` when any step is missing. */
export function pick(value: unknown, path: JsonPath): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isRecord(current)) return undefined;
      current = current[step];
    }
  }
  return current;
}

/** Whether a value is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as an object, or an empty one. */
export function rec(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}

/** The value as an array, or an empty one. */
export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The value as a string, or `null` (numbers are written out: vendors mix ids' types). */
export function str(value: unknown): string | null {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** The value as a string, or `''`. */
export function text(value: unknown): string {
  return str(value) ?? '';
}

/** The value as a finite number (numeric strings too, as QuickBooks sends amounts), or `null`. */
export function num(value: unknown): number | null {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return null;
}

/** The value as an integer, or `null`. */
export function int(value: unknown): number | null {
  const n = num(value);
  return n !== null && Number.isInteger(n) ? n : null;
}

/** The value as a boolean, or `false`. */
export function bool(value: unknown): boolean {
  return value === true;
}

/** The strings of an array (others dropped). */
export function strings(value: unknown): string[] {
  return list(value).filter((v): v is string => typeof v === 'string');
}
