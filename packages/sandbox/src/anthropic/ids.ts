import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random base62 string of `length` characters (the shape of the real API's id suffixes). */
function base62(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  // The modulo bias is irrelevant here: these ids only need to look real and not collide.
  for (const byte of bytes) out += ALPHABET[byte % 62];
  return out;
}

/** A request id as the real API sends in `request-id`, e.g. `req_011CSLsW7mFqvHHnzrKdKjAE`. */
export function newRequestId(): string {
  return `req_011C${base62(20)}`;
}

/** A message id, e.g. `msg_01XFDUDYJgAACzvnptvVoYEL`. */
export function newMessageId(): string {
  return `msg_01${base62(22)}`;
}

/** A tool-use block id, e.g. `toolu_01A09q90qw90lq917835lq9`. */
export function newToolUseId(): string {
  return `toolu_01${base62(22)}`;
}

/** A server tool-use block id, e.g. `srvtoolu_01WYG3ziw53XMcoyKL4XcZmE`. */
export function newServerToolUseId(): string {
  return `srvtoolu_01${base62(22)}`;
}
