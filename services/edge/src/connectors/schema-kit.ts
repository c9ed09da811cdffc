/**
 * Builders for the catalog's JSON Schemas, so each connector file reads as a list of fields.
 * Output schemas put no `format` or `pattern` on strings: results pass through the PII
 * redactor (`████@████.███`) and must stay valid after it.
 */
import type { JsonSchema } from './types.js';

/** A string; constraints (input side only) are merged in. */
export function string(description?: string, extra?: Record<string, unknown>): JsonSchema {
  return { type: 'string', ...(description ? { description } : {}), ...extra };
}

/** A string or null. */
export function nullableString(description?: string): JsonSchema {
  return { type: ['string', 'null'], ...(description ? { description } : {}) };
}

/** An integer; constraints merged in. */
export function integer(description?: string, extra?: Record<string, unknown>): JsonSchema {
  return { type: 'integer', ...(description ? { description } : {}), ...extra };
}

/** An integer or null. */
export function nullableInteger(description?: string): JsonSchema {
  return { type: ['integer', 'null'], ...(description ? { description } : {}) };
}

/** A number. */
export function number(description?: string, extra?: Record<string, unknown>): JsonSchema {
  return { type: 'number', ...(description ? { description } : {}), ...extra };
}

/** A number or null. */
export function nullableNumber(description?: string): JsonSchema {
  return { type: ['number', 'null'], ...(description ? { description } : {}) };
}

/** A boolean; constraints (e.g. a default) merged in. */
export function boolean(description?: string, extra?: Record<string, unknown>): JsonSchema {
  return { type: 'boolean', ...(description ? { description } : {}), ...extra };
}

/** One of fixed strings. */
export function enumOf(
  values: readonly string[],
  description?: string,
  extra?: Record<string, unknown>,
): JsonSchema {
  return { type: 'string', enum: values, ...(description ? { description } : {}), ...extra };
}

/** An array of items; constraints merged in. */
export function array(
  items: JsonSchema,
  description?: string,
  extra?: Record<string, unknown>,
): JsonSchema {
  return { type: 'array', items, ...(description ? { description } : {}), ...extra };
}

/**
 * A closed object: every property listed in `required` must be present and no others are
 * allowed. Inputs reject unknown arguments this way; outputs promise their exact shape.
 */
export function object(
  properties: Record<string, JsonSchema>,
  required: readonly string[] = Object.keys(properties),
  extra?: Record<string, unknown>,
): JsonSchema {
  return { type: 'object', properties, required, additionalProperties: false, ...extra };
}

/** An object with any properties (vendor records whose fields the caller chooses, e.g. SOQL). */
export function openObject(description?: string): JsonSchema {
  return { type: 'object', additionalProperties: true, ...(description ? { description } : {}) };
}

/** The `limit` argument of list tools. */
export function limitArg(defaultValue: number, max: number): JsonSchema {
  return integer(`Most items to return (1–${max}); pages are followed until reached.`, {
    minimum: 1,
    maximum: max,
    default: defaultValue,
  });
}

/** The output of a list tool: the items under `key`, their count and whether more exist. */
export function listOutput(key: string, item: JsonSchema): JsonSchema {
  return object({
    [key]: array(item),
    count: integer('How many items are returned.'),
    has_more: boolean('Whether the vendor has more items than were returned.'),
  });
}
