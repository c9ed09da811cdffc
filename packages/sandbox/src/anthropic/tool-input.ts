import { isObject, type JsonObject } from './wire-types.js';

const MAX_DEPTH = 6;

/**
 * A plausible `input` for a tool, derived from its JSON Schema: `const`, `default` or the first
 * `enum` value when given, otherwise a sample per type (locations get a city, units a unit).
 * Objects carry their `required` properties, or all of them when none are required.
 */
export function sampleToolInput(schema: JsonObject): JsonObject {
  const value = sample(schema, 'input', 0);
  return isObject(value) ? value : {};
}

function sample(schema: unknown, name: string, depth: number): unknown {
  if (!isObject(schema) || depth > MAX_DEPTH) return null;
  if ('const' in schema) return schema['const'];
  if (schema['default'] !== undefined) return schema['default'];
  const choices = schema['enum'];
  if (Array.isArray(choices) && choices.length > 0) return choices[0];
  const alternatives = schema['anyOf'] ?? schema['oneOf'];
  if (Array.isArray(alternatives) && alternatives.length > 0)
    return sample(alternatives[0], name, depth + 1);

  switch (typeOf(schema)) {
    case 'string':
      return sampleString(schema, name);
    case 'integer':
    case 'number':
      return typeof schema['minimum'] === 'number' ? schema['minimum'] : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array':
      return schema['items'] === undefined ? [] : [sample(schema['items'], name, depth + 1)];
    default:
      return sampleObject(schema, depth);
  }
}

function typeOf(schema: JsonObject): string {
  const type = schema['type'];
  if (typeof type === 'string') return type;
  if (Array.isArray(type)) {
    const first = (type as unknown[]).find((t) => typeof t === 'string' && t !== 'null');
    if (typeof first === 'string') return first;
  }
  return isObject(schema['properties']) ? 'object' : 'string';
}

function sampleObject(schema: JsonObject, depth: number): JsonObject {
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required'])
    ? schema['required'].filter((r): r is string => typeof r === 'string')
    : [];
  const names = required.length > 0 ? required : Object.keys(properties);
  const out: Record<string, unknown> = {};
  for (const name of names)
    out[name] = sample(properties[name] ?? { type: 'string' }, name, depth + 1);
  return out;
}

function sampleString(schema: JsonObject, name: string): string {
  if (schema['format'] === 'date') return '2025-01-15';
  if (schema['format'] === 'date-time') return '2025-01-15T12:00:00Z';
  if (schema['format'] === 'email') return 'user@example.com';
  if (/location|city|place|address|where/i.test(name)) return 'San Francisco, CA';
  if (/unit/i.test(name)) return 'celsius';
  return `sample ${name}`;
}
