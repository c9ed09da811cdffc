/** A received message, decoded far enough for tests and people to read it. */
export interface DecodedMail {
  /** Header fields by lowercase name (the last one wins), unfolded and decoded. */
  headers: Record<string, string>;
  subject: string;
  /** The text of a single-part message, decoded from its transfer encoding. */
  text: string;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?UTF-8?Q?…?=`) in a header value. */
export function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(
      /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g,
      (_m, _charset: string, enc: string, data: string) =>
        enc.toUpperCase() === 'B'
          ? Buffer.from(data, 'base64').toString('utf8')
          : qp(data.replace(/_/g, ' ')),
    );
}

/** Decodes quoted-printable text (UTF-8). */
function qp(s: string): string {
  const bytes: number[] = [];
  const src = s.replace(/=\r?\n/g, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    const hex = src.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(...Buffer.from(c ?? '', 'utf8'));
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * Reads a single-part text message as nodemailer writes one (not a general MIME parser):
 * unfolds and decodes the header, and decodes the body's quoted-printable or base64.
 */
export function decodeMail(raw: string): DecodedMail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? '' : raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0)
      headers[line.slice(0, i).trim().toLowerCase()] = decodeWords(line.slice(i + 1).trim());
  }
  const enc = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    enc === 'quoted-printable'
      ? qp(body)
      : enc === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : body;
  return { headers, subject: headers['subject'] ?? '', text: text.replace(/\r\n/g, '\n') };
}
