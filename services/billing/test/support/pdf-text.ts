import { inflateSync } from 'node:zlib';

/**
 * The text runs of a PDF as our renderer writes them: every content stream inflated, and each
 * `[<hex> kerning <hex> …] TJ` (or `<hex> Tj`) joined into one string. Enough to read our own
 * invoices back; not a general PDF text extractor.
 */
export function pdfTextRuns(pdf: Uint8Array): string[] {
  const bytes = Buffer.from(pdf);
  const latin = bytes.toString('latin1');
  const runs: string[] = [];
  const streams = /\/Length (\d+)[^>]*\/Filter \/FlateDecode[^>]*>>\s*stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = streams.exec(latin))) {
    const start = m.index + m[0].length;
    const content = inflateSync(bytes.subarray(start, start + Number(m[1]))).toString('latin1');
    for (const op of content.matchAll(/\[([^\]]*)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj/g)) {
      const hexes =
        op[1] !== undefined
          ? [...op[1].matchAll(/<([0-9a-fA-F]*)>/g)].map((h) => h[1] ?? '')
          : [op[2] ?? ''];
      runs.push(hexes.map((h) => Buffer.from(h, 'hex').toString('latin1')).join(''));
    }
  }
  return runs;
}
