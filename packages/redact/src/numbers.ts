import { isCardNumber } from './luhn.js';
import { maskDigits, type Span } from './spans.js';

// Every pattern here has bounded quantifiers only, so each attempt does constant work and a
// pass over the text is linear on V8's backtracking engine; validation happens in code.

/** Not glued to a letter, digit or underscore on the left, unless that is an escape like \n. */
const LEFT = String.raw`(?:(?<=\\[bfnrt])|(?<![\p{L}\p{N}_]))`;
/** Not the tail of a dotted or dashed run (`v1.555.123.4567`, `ORD-555-123-4567`). */
const UNGLUED = String.raw`(?<![\p{L}\p{N}_][-./])`;
/** Not followed by a letter, digit, underscore, or a separator and another digit. */
const RIGHT = String.raw`(?![\p{L}\p{N}_]|[-./]\d)`;

const PHONE = new RegExp(
  LEFT +
    UNGLUED +
    '(?:' +
    // NANP: optional +1 / 1, area code (bare or in parentheses), exchange, line.
    String.raw`(?:\+?1[-. ]?)?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}` +
    '|' +
    // E.164 written without separators.
    String.raw`\+\d{8,15}` +
    '|' +
    // International: + country code, an optional trunk prefix in parentheses, then groups
    // separated by one space, dot or dash.
    String.raw`\+\d{1,3}(?:[-. ]?\(\d{1,4}\))?[-. ]?\d{1,6}(?:[-. ]\d{1,6}){0,6}` +
    ')' +
    RIGHT,
  'gu',
);

const SSN = new RegExp(
  LEFT + UNGLUED + String.raw`(?:\d{3}-\d{2}-\d{4}|\d{3} \d{2} \d{4}|\d{9})` + RIGHT,
  'gu',
);

/** Text just before a bare nine-digit number that says it is an SSN. */
const SSN_LABEL =
  /(?:ssn|social[ _-]?security|ss#)[^\p{L}\p{N}]{0,4}(?:(?:number|num|no)\.?[^\p{L}\p{N}]{0,4})?$/iu;

const CARD = new RegExp(
  LEFT + String.raw`(?:\d{13,19}|\d{4}([ -])\d{3,6}\1\d{3,6}(?:\1\d{1,6}){0,2})` + RIGHT,
  'gu',
);

/**
 * Phone numbers: NANP with separators (`(555) 123-4567`, `555.123.4567`, `+1 555 123 4567`)
 * and international numbers written with a leading + (8–15 digits in all, E.164). Not phones:
 * bare digit runs without a +, seven-digit local numbers, national formats without a country
 * code outside NANP, and anything glued to letters or to a longer dotted or dashed run — so
 * dates, times, ISO timestamps, versions, IP addresses and order ids stay.
 */
export function findPhones(text: string): Span[] {
  return scan(PHONE, text, (m) => {
    let s = m;
    if (s.startsWith('+') && !isNanp(s)) {
      // A greedy run of groups may take a trailing number; drop groups to fit E.164's 15.
      while (digitCount(s) > 15) {
        const cut = s.search(/[-. ]\d+$/);
        if (cut < 0) return undefined;
        s = s.slice(0, cut);
      }
      if (digitCount(s) < 8) return undefined;
    }
    return { length: s.length, replacement: maskDigits(s), count: 'phone' };
  });
}

/**
 * Social Security numbers: `123-45-6789` or `123 45 6789`, outside the ranges the SSA never
 * issues (area 000, 666 or 900–999; group 00; serial 0000). Nine bare digits count only right
 * after a label saying SSN (in the text, or the JSON key the string sits under): alone they are
 * far more often zip+4 codes, ids or amounts.
 */
export function findSsns(text: string, label?: string): Span[] {
  return scan(SSN, text, (m, index) => {
    const digits = m.replace(/\D/g, '');
    if (!isValidSsn(digits)) return undefined;
    if (m.length === 9) {
      const before = text.slice(Math.max(0, index - 40), index);
      const keyed = label !== undefined && index <= 40 && before.trim() === '' && isSsnKey(label);
      if (!keyed && !SSN_LABEL.test(before)) return undefined;
    }
    return { length: m.length, replacement: maskDigits(m), count: 'ssn' };
  });
}

/**
 * Card numbers: 13–19 digits, bare or in groups with one consistent separator (space or dash),
 * that pass isCardNumber (issuer digit and Luhn). A run of groups too long for one card is cut
 * back group by group, so two cards in a row are both found.
 */
export function findCards(text: string): Span[] {
  return scan(CARD, text, (m) => {
    const sep = /[ -]/.exec(m)?.[0];
    if (sep === undefined) return isCardNumber(m) ? card(m) : undefined;
    const groups = m.split(sep);
    for (let n = groups.length; n >= 3; n--) {
      const kept = groups.slice(0, n);
      if (isCardNumber(kept.join(''))) return card(kept.join(sep));
    }
    return undefined;
  });
}

/** Whether nine digits are in the ranges the SSA issues. */
export function isValidSsn(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  const area = digits.slice(0, 3);
  return (
    area !== '000' &&
    area !== '666' &&
    area[0] !== '9' &&
    digits.slice(3, 5) !== '00' &&
    digits.slice(5) !== '0000'
  );
}

/** Whether a JSON key names an SSN: `ssn`, `customer_ssn`, `SSNs`, `socialSecurityNumber`. */
export function isSsnKey(key: string): boolean {
  const words = key
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z]+/);
  return words.some((w) => w === 'ssn' || w === 'ssns') || /social security/.test(words.join(' '));
}

interface Hit {
  length: number;
  replacement: string;
  count: 'phone' | 'ssn' | 'card';
}

/**
 * Runs a global pattern over the text; `accept` validates each match and may shorten it. After
 * a refused match the scan resumes one character later, so a valid match inside is not missed.
 */
function scan(re: RegExp, text: string, accept: (m: string, index: number) => Hit | undefined) {
  const spans: Span[] = [];
  re.lastIndex = 0;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const hit = accept(m[0], m.index);
    if (hit === undefined) {
      re.lastIndex = m.index + 1;
      continue;
    }
    const end = m.index + hit.length;
    spans.push({ start: m.index, end, replacement: hit.replacement, count: hit.count });
    re.lastIndex = end;
  }
  return spans;
}

const card = (s: string): Hit => ({ length: s.length, replacement: maskDigits(s), count: 'card' });
const digitCount = (s: string): number => s.replace(/\D/g, '').length;
const isNanp = (s: string): boolean =>
  /^\+1[-. ]?(?:\(\d{3}\) ?|\d{3}[-. ])\d{3}[-. ]\d{4}$/.test(s);
