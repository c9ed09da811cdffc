import { inspect } from 'node:util';

const REDACTED = '[redacted]';

/**
 * Secret holds sensitive material so that it cannot be logged, serialised or printed by
 * accident: every conversion yields "[redacted]". Only `reveal()` gives the value, and
 * `destroy()` overwrites a Buffer-held secret in place.
 */
export class Secret {
  readonly #value: Buffer;

  /** Wraps a string (copied into a Buffer) or takes ownership of a Buffer. */
  constructor(value: string | Buffer) {
    this.#value = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  }

  /** The secret as a string. Call at the point of use only. */
  reveal(): string {
    return this.#value.toString('utf8');
  }

  /** The secret's bytes (shared, not copied). */
  bytes(): Buffer {
    return this.#value;
  }

  /** Overwrites the secret's bytes with zeros. */
  destroy(): void {
    this.#value.fill(0);
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
