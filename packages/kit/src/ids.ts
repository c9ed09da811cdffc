import { randomBytes } from 'node:crypto';

/** A new random id with a readable prefix, e.g. `org_3f9a…`; 80 bits of randomness. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(10).toString('hex')}`;
}

/** Ids we accept from callers: a lowercase prefix, underscore, then letters and digits. */
export const ID_PATTERN = /^[a-z]{1,12}_[A-Za-z0-9]{1,64}$/;
