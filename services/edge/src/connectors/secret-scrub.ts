/**
 * Keeps secrets out of everything the executor returns. Every secret the call touched (the
 * stored material and any token minted on the way) is registered; outcome strings and result
 * values are scrubbed of each one and of its base64 forms, whatever the vendor echoed back.
 */

const REDACTED = '[redacted]';
/** Shorter values are not scrubbed: they would match ordinary text and hide nothing worth hiding. */
const MIN_SECRET_LENGTH = 8;

/** The secrets one call has seen. */
export interface SecretSet {
  /** Registers a secret (and its base64 and base64url forms). */
  add(value: string | undefined): void;
  /** Registers the HTTP Basic encoding of `user:password`. */
  addBasic(user: string, password: string): void;
  /** The text with every registered secret replaced by `[redacted]`. */
  scrub(text: string): string;
  /** A deep copy of a JSON value with every string scrubbed. */
  scrubValue<T>(value: T): T;
}

/** Creates an empty secret set. */
export function createSecretSet(): SecretSet {
  const secrets = new Set<string>();
  const add = (value: string | undefined): void => {
    if (value === undefined || value.length < MIN_SECRET_LENGTH) return;
    secrets.add(value);
    const bytes = Buffer.from(value, 'utf8');
    secrets.add(bytes.toString('base64'));
    secrets.add(bytes.toString('base64url'));
  };
  const scrub = (text: string): string => {
    let out = text;
    // Longest first, so a secret containing another is replaced whole.
    for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    return out;
  };
  const scrubValue = (value: unknown): unknown => {
    if (typeof value === 'string') return scrub(value);
    if (Array.isArray(value)) return value.map(scrubValue);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [scrub(k), scrubValue(v)]));
    }
    return value;
  };
  return {
    add,
    addBasic: (user, password) =>
      add(Buffer.from(`${user}:${password}`, 'utf8').toString('base64')),
    scrub,
    scrubValue: <T>(value: T) => scrubValue(value) as T,
  };
}
