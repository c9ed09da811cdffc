import { RE2JS } from 're2js';

/** The longest pattern an admin may save, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 512;

/**
 * The largest compiled program (RE2 instructions) a pattern may have: room for a pattern of
 * MAX_PATTERN_LENGTH literal characters. Realistic patterns (an MRN, an IBAN with
 * `[A-Z0-9]{11,30}`) are 10–60; repetition counts are what make programs large.
 */
export const MAX_PROGRAM_SIZE = 1000;

/** A JavaScript regex literal with flags (`/MRN-\d{8}/gi`), as admins copy them from docs. */
const REGEX_LITERAL = /^\/.+\/[a-z]+$/s;

/**
 * What may stand just before and just after an empty match, for RE2's empty-width assertions:
 * ^ $ \A \z see the text edges and (with (?m)) newlines; \b \B see ASCII word characters. One
 * of each class covers every case, so a pattern that matches empty anywhere matches empty in
 * one of these 4 × 4 contexts.
 */
const BEFORE = ['', 'a', ' ', '\\n'];
const AFTER = ['', 'a', ' ', '\\n'];
const unescape = (c: string): string => (c === '\\n' ? '\n' : c);

/** A pattern that passed validation, ready to scan with. */
export interface CompiledPattern {
  readonly re: RE2JS;
}

/**
 * Why a pattern cannot be used, or undefined if it can: the policy service calls this when an
 * admin saves a pattern, and the edge calls it again (through createRedactor) before use.
 */
export function validateCustomPattern(pattern: string): string | undefined {
  const r = compileCustomPattern(pattern);
  return 'reason' in r ? r.reason : undefined;
}

/** Compiles a pattern on the linear-time engine, or says why it cannot be used. */
export function compileCustomPattern(pattern: string): CompiledPattern | { reason: string } {
  if (pattern.length === 0) return { reason: 'pattern is empty' };
  if (pattern.length > MAX_PATTERN_LENGTH)
    return {
      reason: `pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}`,
    };
  if (REGEX_LITERAL.test(pattern))
    return {
      reason: `pattern "${clip(pattern)}" looks like a javascript regex literal; write it without the slashes and flags, and use (?i) for case-insensitive`,
    };
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    return { reason: syntaxReason(pattern, err) };
  }
  const size = re.programSize();
  if (size > MAX_PROGRAM_SIZE)
    return {
      reason: `pattern "${clip(pattern)}" compiles to ${size} instructions; the limit is ${MAX_PROGRAM_SIZE} (use smaller repetition counts)`,
    };
  const empty = matchesEmpty(pattern);
  if (empty !== false) return { reason: empty };
  return { re };
}

/** Whether the pattern can match the empty string somewhere; a reason if it can. */
function matchesEmpty(pattern: string): string | false {
  for (const before of BEFORE)
    for (const after of AFTER) {
      // The pattern compiled on its own, so its parentheses balance and the group holds it;
      // only an unterminated \Q can swallow the closing parenthesis.
      let probe: RE2JS;
      try {
        probe = RE2JS.compile(`${before}(?:${pattern})${after}`);
      } catch {
        return `pattern "${clip(pattern)}" has an unterminated \\Q quote; close it with \\E`;
      }
      if (probe.matches(unescape(before) + unescape(after)))
        return `pattern "${clip(pattern)}" matches the empty string; it must match at least one character`;
    }
  return false;
}

/** A reason for a syntax error, naming the RE2 limits admins most often hit. */
function syntaxReason(pattern: string, err: unknown): string {
  if (/\(\?<?[=!]/.test(pattern))
    return `pattern "${clip(pattern)}" uses lookahead or lookbehind, which the linear-time engine (re2) does not support`;
  if (/\\(?:[1-9]|k<)/.test(pattern))
    return `pattern "${clip(pattern)}" uses a backreference, which the linear-time engine (re2) does not support`;
  const detail = err instanceof Error ? err.message.replace(/^error parsing regexp: /, '') : '';
  return `pattern "${clip(pattern)}" is not valid re2 syntax: ${detail}`;
}

/** The start of a long pattern, for messages. */
function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
