import type { Span } from './spans.js';

/** The fixed shape every email address becomes, whatever its length. */
export const EMAIL_MASK = '████@████.███';

/**
 * The @ and its encodings as they appear in tool results: URL-encoded in query strings
 * (`?u=a%40b.io`), JSON-escaped in text that is not itself valid JSON (`\u0040`, with one more
 * backslash per level of JSON-in-a-JSON-string), HTML entities.
 */
const PIVOT = /@|%40|(?<=\\)u0040|&#0*64;|&#x0*40;/giu;

/** The longest local part and domain scanned (RFC 5321: 64 and 255), with room to spare. */
const MAX_LOCAL = 128;
const MAX_DOMAIN = 255;

/** Local-part characters: letters, marks, digits (any script), and . _ + - ' */
const LOCAL_CHAR = /^[\p{L}\p{M}\p{N}._+'-]$/u;
/** Domain-label characters: letters, marks, digits (IDN), and - */
const LABEL_CHAR = /^[\p{L}\p{M}\p{N}-]$/u;
const ALNUM = /[\p{L}\p{N}]/u;
const TLD = /^(?:[\p{L}\p{M}]{2,63}|xn--[a-z0-9-]{1,59})$/iu;
const HEX = /^[0-9a-f]$/i;
/** Retina asset names (`icon@2x.png`) are file names, not addresses. */
const ASSET = /^\d+(?:\.\d+)?x\.(?:png|jpe?g|gif|webp|svg|avif)$/i;

/**
 * Finds email addresses around each @ (or encoded @): the local part extends left over the
 * characters above (and %XX escapes), the domain right over dot-separated labels ending in an
 * alphabetic TLD. Leading dots and quotes, trailing dots and hyphens, and any surrounding
 * quote, backslash, bracket or other punctuation stay outside the match. Each scan is capped,
 * so the whole pass is linear in the text.
 */
export function findEmails(text: string): Span[] {
  const spans: Span[] = [];
  PIVOT.lastIndex = 0;
  for (let m = PIVOT.exec(text); m !== null; m = PIVOT.exec(text)) {
    let pivot = m.index;
    // The escape's backslashes belong to the pivot, not the local part before it.
    if (m[0][0] === 'u' || m[0][0] === 'U') while (text[pivot - 1] === '\\') pivot--;
    const start = localStart(text, pivot);
    const end = domainEnd(text, m.index + m[0].length);
    if (start === undefined || end === undefined) continue;
    const last = spans.at(-1);
    // `a@b.io@c.io`: two pivots share characters; one span covers both.
    if (last !== undefined && start < last.end) last.end = Math.max(last.end, end);
    else spans.push({ start, end, replacement: EMAIL_MASK, count: 'email' });
  }
  return spans;
}

/** Where the local part before the pivot starts, or undefined if there is none. */
function localStart(text: string, pivot: number): number | undefined {
  let i = pivot;
  const floor = Math.max(0, pivot - MAX_LOCAL);
  while (i > floor) {
    const c = charBefore(text, i);
    if (LOCAL_CHAR.test(c)) i -= c.length;
    // A %XX escape (`jane%2Bsales`): its hex digits were taken as letters and digits already.
    else if (c === '%' && i + 1 < pivot && isHex(text[i]) && isHex(text[i + 1])) i -= 1;
    else break;
  }
  // An escape such as \n just before (`"\nbob@x.io"` in escaped text) is not part of the name.
  if (text[i - 1] === '\\' && /[bfnrt]/.test(text[i] ?? '')) i++;
  while (i < pivot && (text[i] === '.' || text[i] === "'")) i++;
  return i < pivot && ALNUM.test(text.slice(i, pivot)) ? i : undefined;
}

/** Where the domain after the pivot ends, or undefined if there is no valid domain. */
function domainEnd(text: string, from: number): number | undefined {
  let i = from;
  const ceiling = Math.min(text.length, from + MAX_DOMAIN);
  while (i < ceiling) {
    const c = String.fromCodePoint(text.codePointAt(i) as number);
    if (c !== '.' && !LABEL_CHAR.test(c)) break;
    i += c.length;
  }
  const labels = text.slice(from, i).split('.');
  // Trailing dots, hyphens and labels that cannot end a domain (`a@b.io.` or `a@b.io.123`).
  while (labels.length >= 2) {
    const tld = (labels.at(-1) as string).replace(/-+$/, '');
    if (TLD.test(tld) && labels.every((l) => l.length > 0)) {
      labels[labels.length - 1] = tld;
      break;
    }
    labels.pop();
  }
  if (labels.length < 2 || labels.some((l) => l.length === 0)) return undefined;
  const domain = labels.join('.');
  if (ASSET.test(domain)) return undefined;
  return from + domain.length;
}

/** The code point ending at index i (one or two code units). */
function charBefore(text: string, i: number): string {
  const low = text.charCodeAt(i - 1);
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = text.charCodeAt(i - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.slice(i - 2, i);
  }
  return text.slice(i - 1, i);
}

const isHex = (c: string | undefined): boolean => c !== undefined && HEX.test(c);
