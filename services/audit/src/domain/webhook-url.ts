import { isIP } from 'node:net';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip } from '@fortress/kit/validate';
import { isLoopback } from '@fortress/kit/ip-ranges';

/**
 * Production: https only, and the target must resolve to public addresses. Development: http
 * is also allowed to a loopback host, and addresses are not checked (local receivers).
 */
export type WebhookMode = 'production' | 'development';

/** A webhook URL that passed the syntactic rules. */
export interface WebhookUrl {
  /** The normalised URL (WHATWG serialisation). */
  href: string;
  url: URL;
  /** The host without IPv6 brackets: a name, or an IP literal. */
  host: string;
  /** True when the host is an IP literal (no DNS involved). */
  literal: boolean;
}

const MAX_URL = 2048;

/** Hosts that name this machine whatever DNS says (RFC 6761). */
const isLocalhostName = (host: string) => host === 'localhost' || host.endsWith('.localhost');

/**
 * Parses a webhook URL and applies the rules that need no DNS: https (or http to a loopback
 * host in development mode), no credentials in the URL, a host. `field` names the request
 * field in errors.
 */
export function parseWebhookUrl(field: string, raw: string, mode: WebhookMode): WebhookUrl {
  const text = raw.trim();
  if (!text) throw new InvalidArgumentError(field, `${field} is required`);
  if (text.length > MAX_URL)
    throw new InvalidArgumentError(field, `${field} must be at most ${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidArgumentError(field, `${field} "${clip(text)}" is not a URL`);
  }
  // The host as the connection will use it: WHATWG has already turned 0x7f.1 or 2130706433
  // into 127.0.0.1, so literals are judged in their canonical form.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  const literal = isIP(host) !== 0;
  if (url.username || url.password)
    throw new InvalidArgumentError(field, `${field} must not carry a user name or password`);
  if (!host) throw new InvalidArgumentError(field, `${field} "${clip(text)}" has no host`);
  const loopbackHost = literal ? isLoopback(host) : isLocalhostName(host.toLowerCase());
  if (url.protocol === 'http:') {
    if (mode !== 'development' || !loopbackHost)
      throw new InvalidArgumentError(
        field,
        mode === 'development'
          ? `${field} must use https (http only for a loopback host), got "${clip(text)}"`
          : `${field} must use https, got "${clip(text)}"`,
      );
  } else if (url.protocol !== 'https:') {
    throw new InvalidArgumentError(field, `${field} must use https, got "${clip(text)}"`);
  }
  if (mode === 'production' && !literal && isLocalhostName(host.toLowerCase()))
    throw new InvalidArgumentError(field, `${field} host "${clip(host)}" is this machine`);
  url.hash = '';
  return { href: url.href, url, host, literal };
}
