/** A PII kind the redactor detects by itself. */
export type BuiltinKind = 'email' | 'phone' | 'ssn' | 'card';

/** Every built-in kind, in the order overlapping matches are resolved (earlier wins). */
export const BUILTIN_KINDS: readonly BuiltinKind[] = ['email', 'card', 'ssn', 'phone'];

/**
 * A kind a profile may list. `custom` is the policy model's marker that custom patterns are on;
 * the patterns themselves are in `custom` and run whether or not the marker is listed.
 */
export type ProfileKind = BuiltinKind | 'custom';

/** An org-defined pattern (Bank / Zero Trust): RE2 syntax, run on a linear-time engine. */
export interface CustomPattern {
  /** Names the pattern in counts (`custom:<id>`) and errors. */
  id: string;
  /** RE2 syntax; `(?i)` for case-insensitive. See validateCustomPattern for the limits. */
  pattern: string;
  /** Replaces the whole match; empty: every non-whitespace character of the match becomes █. */
  mask: string;
}

/** What to mask in one request's tool results, as the policy service hands it to the edge. */
export interface RedactionProfile {
  kinds: readonly string[];
  custom: readonly CustomPattern[];
}

/** A key of Counts: a built-in kind, or `custom:<id>`. */
export type CountKey = BuiltinKind | `custom:${string}`;

/** How many matches of each kind were masked; kinds with none are absent. Never values. */
export type Counts = Partial<Record<CountKey, number>>;

/** Why a redactor could not be built or could not run. */
export type RedactionErrorReason = 'invalid_pattern' | 'unknown_kind' | 'input_too_large';

/**
 * A profile the redactor cannot honour, or input it will not scan. Callers fail closed: a tool
 * result that cannot be redacted is not sent.
 */
export class RedactionError extends Error {
  /** Creates an error with a stable reason and a lowercase message quoting the input. */
  constructor(
    readonly reason: RedactionErrorReason,
    message: string,
    /** The custom pattern at fault, for `invalid_pattern`. */
    readonly patternId?: string,
  ) {
    super(message);
    this.name = 'RedactionError';
  }
}
