/**
 * Copies a JSON value, mapping every leaf (string, number, boolean, null, or anything that is
 * not an array or object) through `leaf`. Object keys are copied as they are; `label` is the
 * nearest enclosing object key, which detectors may use as context. Walks with an explicit stack
 * so deeply nested input cannot overflow the call stack; refuses cyclic input.
 */
export function mapJson(
  root: unknown,
  leaf: (value: unknown, label: string | undefined) => unknown,
): unknown {
  if (!isContainer(root)) return leaf(root, undefined);
  const out = emptyLike(root);
  const open = new Set<object>([root]);
  const stack: Frame[] = [frame(root, out, undefined)];
  while (stack.length > 0) {
    const f = stack[stack.length - 1] as Frame;
    if (f.next >= f.keys.length) {
      open.delete(f.src);
      stack.pop();
      continue;
    }
    const key = f.keys[f.next++] as string;
    const value = (f.src as Record<string, unknown>)[key];
    const label = Array.isArray(f.src) ? f.label : key;
    if (isContainer(value)) {
      if (open.has(value)) throw new TypeError('value is cyclic; only JSON values can be redacted');
      open.add(value);
      const copy = emptyLike(value);
      define(f.dst, key, copy);
      stack.push(frame(value, copy, label));
    } else {
      define(f.dst, key, leaf(value, label));
    }
  }
  return out;
}

interface Frame {
  src: object;
  dst: object;
  keys: string[];
  next: number;
  label: string | undefined;
}

const frame = (src: object, dst: object, label: string | undefined): Frame => ({
  src,
  dst,
  keys: Object.keys(src),
  next: 0,
  label,
});

/** Arrays and objects that serialise as objects; not dates, raw JSON or other toJSON values. */
function isContainer(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  if (Array.isArray(v)) return true;
  return typeof (v as { toJSON?: unknown }).toJSON !== 'function' && !isRawJson(v);
}

const emptyLike = (v: object): object => (Array.isArray(v) ? new Array<unknown>(v.length) : {});

/** Sets a property as JSON.parse would: `__proto__` becomes an own key, not the prototype. */
function define(dst: object, key: string, value: unknown): void {
  Object.defineProperty(dst, key, { value, writable: true, enumerable: true, configurable: true });
}

/** JSON.rawJSON and JSON.parse's source text (ES2025; Node ≥ 21), not yet in TypeScript's lib. */
interface JsonWithSource {
  rawJSON(text: string): object;
  isRawJSON(value: unknown): boolean;
  parse(
    text: string,
    reviver: (key: string, value: unknown, context?: { source?: string }) => unknown,
  ): unknown;
}
const JSONX = JSON as unknown as JsonWithSource;

/** Whether a value is a raw JSON text made by rawJson. */
export const isRawJson = (v: unknown): v is { rawJSON: string } => JSONX.isRawJSON(v);

/** A value JSON.stringify writes out verbatim (here: a number's exact source text). */
export const rawJson = (text: string): object => JSONX.rawJSON(text);

/**
 * Parses JSON text keeping each number's exact source (as a raw JSON value), so that writing
 * the value back does not round 64-bit ids or reformat `1.50`. Throws SyntaxError if not JSON.
 */
export function parseKeepingNumbers(text: string): unknown {
  return JSONX.parse(text, (_key, value, context) =>
    typeof value === 'number' && context?.source !== undefined ? rawJson(context.source) : value,
  );
}
