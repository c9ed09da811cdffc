import type { CountKey, Counts } from './profile.js';

/** The mask character. */
export const BLOCK = '█';

/** A stretch of text to replace: [start, end) in UTF-16 code units. */
export interface Span {
  start: number;
  end: number;
  replacement: string;
  /** The kind counted for this span; absent for the remainder of a partly covered match. */
  count?: CountKey;
}

/** Every digit → █; separators, `+` and parentheses kept. */
export const maskDigits = (s: string): string => s.replace(/\d/g, BLOCK);

/** Every non-whitespace character (code point) → █. */
export const maskNonSpace = (s: string): string => s.replace(/\S/gu, BLOCK);

/**
 * Merges layers of matches into one set of non-overlapping spans. Layers come in priority
 * order, each sorted by start and free of overlaps within itself. A match that overlaps
 * nothing taken so far is taken whole and counted; one wholly covered is dropped (so a card
 * number is not also counted as a phone number); one partly covered still has its uncovered
 * remainder masked (every non-whitespace character → █) so no piece of it shows, but is not
 * counted. Linear in the number of spans per layer.
 */
export function resolve(text: string, layers: readonly (readonly Span[])[]): Span[] {
  let taken: Span[] = [];
  for (const layer of layers) {
    if (layer.length === 0) continue;
    const added: Span[] = [];
    let i = 0;
    for (const s of layer) {
      while (i < taken.length && (taken[i] as Span).end <= s.start) i++;
      let cursor = s.start;
      let overlapped = false;
      for (let k = i; k < taken.length && (taken[k] as Span).start < s.end; k++) {
        const t = taken[k] as Span;
        overlapped = true;
        if (t.start > cursor) added.push(remainder(text, cursor, t.start));
        cursor = Math.max(cursor, t.end);
      }
      if (!overlapped) added.push(s);
      else if (cursor < s.end) added.push(remainder(text, cursor, s.end));
    }
    taken = mergeSorted(taken, added);
  }
  return taken;
}

/** Applies non-overlapping spans sorted by start, adding each counted span to counts. */
export function apply(text: string, spans: readonly Span[], counts: Counts): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + s.replacement;
    at = s.end;
    if (s.count !== undefined) counts[s.count] = (counts[s.count] ?? 0) + 1;
  }
  return out + text.slice(at);
}

/** The uncovered piece of a partly covered match. */
function remainder(text: string, start: number, end: number): Span {
  return { start, end, replacement: maskNonSpace(text.slice(start, end)) };
}

/** Merges two lists of spans, each sorted by start, that do not overlap each other. */
function mergeSorted(a: readonly Span[], b: readonly Span[]): Span[] {
  if (b.length === 0) return a as Span[];
  const out: Span[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if ((a[i] as Span).start <= (b[j] as Span).start) out.push(a[i++] as Span);
    else out.push(b[j++] as Span);
  }
  while (i < a.length) out.push(a[i++] as Span);
  while (j < b.length) out.push(b[j++] as Span);
  return out;
}
