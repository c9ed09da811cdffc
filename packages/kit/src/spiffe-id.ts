import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';

// one "TYPE:value" entry of Node's SAN string; values with special characters come JSON-quoted
const ENTRY = /([A-Za-z][A-Za-z ]*):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/y;
const SPIFFE_ID = /^spiffe:\/\/[a-z0-9._-]+(?:\/[A-Za-z0-9._-]+)+$/;

/** Parses Node's `subjectaltname` format ("URI:spiffe://fortress/edge, DNS:localhost") into [type, value] pairs; undefined if malformed. */
export function parseSubjectAltName(text: string): Array<[string, string]> | undefined {
  const entries: Array<[string, string]> = [];
  ENTRY.lastIndex = 0;
  while (ENTRY.lastIndex < text.length) {
    const match = ENTRY.exec(text);
    const [, type, raw] = match ?? [];
    if (type === undefined || raw === undefined) return undefined;
    try {
      entries.push([type, raw.startsWith('"') ? (JSON.parse(raw) as string) : raw]);
    } catch {
      return undefined;
    }
  }
  return entries;
}

/**
 * The SPIFFE ID in a certificate's URI SAN, or undefined when there is none, more than one (ambiguous
 * identity, refused as the SPIFFE X.509-SVID spec requires) or the SAN cannot be parsed.
 */
export function spiffeIdOf(certificate: PeerCertificate | X509Certificate): string | undefined {
  const text =
    certificate instanceof X509Certificate
      ? certificate.subjectAltName
      : certificate.subjectaltname;
  if (text === undefined || text === '') return undefined;
  const uris = parseSubjectAltName(text)
    ?.filter(([type, value]) => type === 'URI' && value.toLowerCase().startsWith('spiffe:'))
    .map(([, value]) => value);
  if (uris?.length !== 1) return undefined;
  const [id] = uris;
  return id !== undefined && SPIFFE_ID.test(id) ? id : undefined;
}
