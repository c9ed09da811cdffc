import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { refusedRange, type RefusedRange } from '@fortress/kit/ip-ranges';
import type { WebhookMode, WebhookUrl } from '../../domain/webhook-url.js';

/** One address a host resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address it has (the system resolver by default). */
export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

/** The system resolver (getaddrinfo, so /etc/hosts counts), every address, in its order. */
export const systemLookup: Lookup = async (host) =>
  (await dnsLookup(host, { all: true, order: 'verbatim' })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

/** Where to connect, or why not to. A refusal is a result, not an exception. */
export type TargetCheck =
  | { ok: true; address: ResolvedAddress }
  | { ok: false; error: 'dns_failed' }
  | { ok: false; error: 'address_refused'; address: string; range: RefusedRange };

/**
 * Resolves a webhook's host once and decides where to connect. In production mode every
 * address the name has must be public — a name with one private address among public ones is
 * refused, since the connection could land on either. The caller connects to the returned
 * address and nowhere else, so a name that answers differently a moment later (DNS
 * rebinding) cannot move the connection onto an address that was never checked.
 */
export async function resolveTarget(
  target: WebhookUrl,
  mode: WebhookMode,
  lookup: Lookup = systemLookup,
): Promise<TargetCheck> {
  let addresses: ResolvedAddress[];
  if (target.literal) {
    addresses = [{ address: target.host, family: isIP(target.host) === 6 ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(target.host);
    } catch {
      return { ok: false, error: 'dns_failed' };
    }
  }
  const first = addresses[0];
  if (!first) return { ok: false, error: 'dns_failed' };
  if (mode === 'production')
    for (const a of addresses) {
      const range = refusedRange(a.address);
      if (range) return { ok: false, error: 'address_refused', address: a.address, range };
    }
  return { ok: true, address: first };
}
