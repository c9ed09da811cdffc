import { compileCustomPattern } from './custom-pattern.js';
import { findEmails } from './email.js';
import { isRawJson, mapJson, parseKeepingNumbers, rawJson } from './json-walk.js';
import { isCardNumber } from './luhn.js';
import { findCards, findPhones, findSsns, isSsnKey, isValidSsn } from './numbers.js';
import {
  BUILTIN_KINDS,
  RedactionError,
  type BuiltinKind,
  type Counts,
  type RedactionProfile,
} from './profile.js';
import { apply, maskNonSpace, resolve, type Span } from './spans.js';
import type { RE2JS } from 're2js';

/** The most text one call scans, in UTF-16 code units (1 Mi: about 1–3 MB of UTF-8). */
export const DEFAULT_MAX_INPUT_CHARS = 1024 * 1024;

/** How many times JSON text nested inside a JSON string is itself parsed and walked. */
const MAX_EMBEDDED_JSON_DEPTH = 4;

/** Options for createRedactor. */
export interface RedactorOptions {
  /** The most string content one call scans; larger input throws `input_too_large`. */
  maxInputChars?: number;
}

/** Text with PII masked, and what was masked. */
export interface TextResult {
  text: string;
  counts: Counts;
}

/** A JSON value with PII masked, and what was masked. */
export interface JsonResult {
  value: unknown;
  counts: Counts;
}

/** Masks PII in tool results according to one profile; build once per profile and reuse. */
export interface Redactor {
  /** Whether the profile masks nothing: text and json return their input as it is. */
  readonly noop: boolean;
  /** Masks PII in a text (JSON text is redacted value by value; see the package README). */
  text(s: string): TextResult;
  /** Masks PII in every string (and card numbers) of a JSON value; keys, types and shape kept. */
  json(value: unknown): JsonResult;
}

interface CompiledCustom {
  re: RE2JS;
  mask: string;
  key: `custom:${string}`;
}

/**
 * Compiles a profile into a redactor. Throws RedactionError for an unknown kind or an invalid
 * custom pattern (`invalid_pattern`, naming the pattern's id): the edge fails closed.
 */
export function createRedactor(profile: RedactionProfile, options: RedactorOptions = {}): Redactor {
  const kinds = new Set<BuiltinKind>();
  for (const k of profile.kinds) {
    if ((BUILTIN_KINDS as readonly string[]).includes(k)) kinds.add(k as BuiltinKind);
    else if (k !== 'custom')
      throw new RedactionError('unknown_kind', `unknown redaction kind "${k}"`);
  }
  const custom: CompiledCustom[] = profile.custom.map((c) => {
    const compiled = compileCustomPattern(c.pattern);
    if ('reason' in compiled)
      throw new RedactionError(
        'invalid_pattern',
        `custom pattern "${c.id}" is invalid: ${compiled.reason}`,
        c.id,
      );
    return { re: compiled.re, mask: c.mask, key: `custom:${c.id}` };
  });
  if (kinds.size === 0 && custom.length === 0) return NOOP;
  const maxInput = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;

  /** One call's state: what was masked and how much text is left to scan. */
  class Run {
    counts: Counts = {};
    budget = maxInput;

    /** Charges the budget for text the caller passed in (not for JSON parsed out of it). */
    charge(s: string): void {
      this.budget -= s.length;
      if (this.budget < 0)
        throw new RedactionError(
          'input_too_large',
          `input has more than ${maxInput} characters of text to redact`,
        );
    }

    /** A string: JSON text value by value, anything else as text. */
    string(s: string, label: string | undefined, depth: number): string {
      if (depth < MAX_EMBEDDED_JSON_DEPTH && /^\s*[[{]/.test(s)) {
        let parsed: unknown;
        try {
          parsed = parseKeepingNumbers(s);
        } catch {
          return this.scan(s, label);
        }
        let changed = false;
        const value = mapJson(parsed, (v, l) => {
          const out = this.leaf(v, l, depth + 1);
          if (out !== v) changed = true;
          return out;
        });
        return changed ? reserialise(s, value) : s;
      }
      return this.scan(s, label);
    }

    /** A JSON leaf: strings are scanned; card numbers (and labelled SSNs) become 0. */
    leaf(v: unknown, label: string | undefined, depth: number): unknown {
      if (typeof v === 'string') {
        if (depth === 0) this.charge(v);
        return this.string(v, label, depth);
      }
      if (isRawJson(v)) return this.number(v.rawJSON, label) ? rawJson('0') : v;
      if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0)
        return this.number(String(v), label) ? 0 : v;
      if (typeof v === 'bigint' && v > 0n) return this.number(v.toString(), label) ? 0n : v;
      return v;
    }

    /** Whether a JSON number is a card number (or an SSN under an SSN key), counting it. */
    number(source: string, label: string | undefined): boolean {
      if (kinds.has('card') && isCardNumber(source)) {
        this.counts.card = (this.counts.card ?? 0) + 1;
        return true;
      }
      if (kinds.has('ssn') && label !== undefined && isSsnKey(label) && isValidSsn(source)) {
        this.counts.ssn = (this.counts.ssn ?? 0) + 1;
        return true;
      }
      return false;
    }

    /** Plain text: every detector, overlaps resolved by priority (custom first). */
    scan(s: string, label: string | undefined): string {
      const layers: Span[][] = custom.map((c) => findCustom(c, s));
      if (kinds.has('email')) layers.push(findEmails(s));
      if (kinds.has('card')) layers.push(findCards(s));
      if (kinds.has('ssn')) layers.push(findSsns(s, label));
      if (kinds.has('phone')) layers.push(findPhones(s));
      return apply(s, resolve(s, layers), this.counts);
    }
  }

  return {
    noop: false,
    text(s) {
      const run = new Run();
      run.charge(s);
      const text = run.string(s, undefined, 0);
      return { text, counts: run.counts };
    },
    json(value) {
      const run = new Run();
      const out = mapJson(value, (v, label) => run.leaf(v, label, 0));
      return { value: out, counts: run.counts };
    },
  };
}

/** The redactor for a profile that masks nothing: the gateway's hot path. */
const NOOP: Redactor = {
  noop: true,
  text: (s) => ({ text: s, counts: {} }),
  json: (value) => ({ value, counts: {} }),
};

/** Matches of one custom pattern, leftmost-first and non-overlapping. */
function findCustom(c: CompiledCustom, s: string): Span[] {
  const spans: Span[] = [];
  const m = c.re.matcher(s);
  while (m.find()) {
    const start = m.start();
    const end = m.end();
    // Validation refuses patterns that can match empty; this is the belt to those braces.
    if (end === start) continue;
    const replacement = c.mask === '' ? maskNonSpace(s.slice(start, end)) : c.mask;
    spans.push({ start, end, replacement, count: c.key });
  }
  return spans;
}

/** Writes redacted JSON back in the original's layout: outer whitespace and indent kept. */
function reserialise(original: string, value: unknown): string {
  const body = original.trim();
  const lead = original.slice(0, original.indexOf(body));
  const trail = original.slice(lead.length + body.length);
  const indent = /^[[{][ \t]*\r?\n([ \t]+)/.exec(body)?.[1];
  return lead + JSON.stringify(value, null, indent) + trail;
}
