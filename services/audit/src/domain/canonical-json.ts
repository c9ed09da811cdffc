/** Strings JSON.stringify writes unchanged between quotes: printable ASCII but " and \. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
/** `"key":` for keys seen before: the same few dozen keys repeat in every row. */
const keyPrefix = new Map<string, string>();
const KEY_CACHE_LIMIT = 10_000;

const quoted = (s: string) => (PLAIN.test(s) ? `"${s}"` : JSON.stringify(s));

function prefixOf(key: string): string {
  let p = keyPrefix.get(key);
  if (p === undefined) {
    p = `${quoted(key)}:`;
    if (keyPrefix.size < KEY_CACHE_LIMIT) keyPrefix.set(key, p);
  }
  return p;
}

/**
 * Canonical JSON: the one byte sequence a JSON value hashes and signs as. Object keys are
 * sorted by UTF-16 code units and written without whitespace, strings and numbers exactly as
 * `JSON.stringify` writes them (RFC 8785 uses the same rules), properties whose value is
 * undefined are left out (as `JSON.stringify` and therefore jsonb do). Values that JSON cannot
 * carry (non-finite numbers, bigints, functions, undefined in an array) are refused rather
 * than silently changed. Written as plain loops with a cache of key prefixes: it runs for
 * every audit row when written and again when verified.
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quoted(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`);
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record).sort();
      let out = '{';
      for (const key of keys) {
        const v = record[key];
        if (v === undefined) continue;
        out += (out.length > 1 ? ',' : '') + prefixOf(key) + canonicalJson(v);
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`cannot encode a ${typeof value} as JSON`);
  }
}
