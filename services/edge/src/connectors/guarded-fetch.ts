import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { refusedRange } from '@fortress/kit/ip-ranges';

/** Where connectors may go: anywhere public over https (production), or also loopback/http (development). */
export type ConnectorNetworkMode = 'production' | 'development';

/** A connection refused because the target is not a public address (SSRF guard). */
export class TargetRefusedError extends Error {
  readonly code = 'EADDRNOTALLOWED';
}

/**
 * A `lookup` for outgoing connections that resolves the host once and refuses it when any of
 * its addresses is private, loopback, link-local (cloud metadata), shared, multicast or
 * reserved. The connection then goes to the addresses this very lookup returned, so a name
 * that answers differently a moment later (DNS rebinding) cannot reach an unchecked address.
 */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as unknown as Array<{ address: string; family: number }>;
    const bad = list.find((a) => refusedRange(a.address));
    if (bad || list.length === 0) {
      const range = bad ? refusedRange(bad.address) : 'no address';
      return callback(
        new TargetRefusedError(
          `the target resolves to a ${range} address, which connectors may not reach`,
        ),
        '',
        0,
      );
    }
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: typeof list) => void)(null, list);
    const first = list[0] as { address: string; family: number };
    callback(null, first.address, first.family);
  });
};

/**
 * The fetch connectors (SaaS APIs and upstream MCP servers) use. In production an
 * organisation's admin chooses the base URL, so it must not become a way into our network:
 * https only, public addresses only, checked at connect time on every connection, no
 * redirects followed to elsewhere. In development (the local stack, tests) the sandbox fakes
 * on loopback are allowed.
 */
export function createConnectorFetch(mode: ConnectorNetworkMode): typeof fetch {
  if (mode === 'development') return globalThis.fetch;
  const agent = new Agent({ connect: { lookup: publicOnlyLookup } });
  const guarded = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol !== 'https:')
      return Promise.reject(
        new TargetRefusedError('connectors reach their upstream over https only'),
      );
    // An address literal is connected to without a lookup: check it here.
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(literal) && refusedRange(literal))
      return Promise.reject(
        new TargetRefusedError(
          `the target is a ${refusedRange(literal)} address, which connectors may not reach`,
        ),
      );
    return undiciFetch(
      input as never,
      {
        ...(init as object),
        dispatcher: agent,
        redirect: 'manual',
      } as never,
    ) as unknown as Promise<Response>;
  };
  return guarded;
}
