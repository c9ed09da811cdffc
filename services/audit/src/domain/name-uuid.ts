import { createHash } from 'node:crypto';

/**
 * A UUID derived from a name (the parts, JSON-encoded so no two lists collide): the same
 * parts always give the same id. Used where an event or job must have one id however often
 * it is produced (an anomaly of one user and hour, an alert sent once per period). Shaped as
 * an RFC 9562 version 8 UUID (SHA-256, truncated), lowercase as events carry ids.
 */
export function nameUuid(...parts: string[]): string {
  const b = createHash('sha256').update(JSON.stringify(parts)).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x80;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
