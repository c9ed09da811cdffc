import type { IncomingHttpHeaders } from 'node:http';

/** The credentials a client presented. */
export interface PresentedCredentials {
  /** The Fortress org key (or Fortress token). */
  apiKey: string;
  /** An IdP token (JWT) presented alongside it. */
  idpToken: string;
}

const single = (v: string | string[] | undefined) =>
  (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim();

/**
 * Finds the org key and IdP token in a request. The org key may come in `x-api-key` (curl,
 * older SDKs, the seeds) or as `Authorization: Bearer fk_…` (today's SDK sends its apiKey
 * that way). A bearer value that is not a Fortress key is an IdP token, as in the seeds'
 * Bank / Zero Trust pair.
 */
export function presentedCredentials(headers: IncomingHttpHeaders): PresentedCredentials {
  const headerKey = single(headers['x-api-key']);
  const auth = single(headers['authorization']);
  const bearer = /^Bearer\s+(\S+)$/i.exec(auth)?.[1] ?? '';
  const bearerIsFortressKey = bearer.startsWith('fk_');
  return {
    apiKey: headerKey || (bearerIsFortressKey ? bearer : ''),
    idpToken: bearerIsFortressKey ? '' : bearer,
  };
}
