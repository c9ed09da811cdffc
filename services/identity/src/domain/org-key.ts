import { createHash, randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 43 base62 characters carry 256 bits of randomness. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = /^fk_(live|test)_[A-Za-z0-9]{43}$/;

/** Where a key may be used: production traffic or testing. */
export type KeyEnvironment = 'live' | 'test';

/** A freshly generated org key: the secret (shown once) and what is stored. */
export interface GeneratedKey {
  secret: string;
  hash: Buffer;
  displayPrefix: string;
}

/** Generates an org key `fk_live_…` / `fk_test_…` with 256 bits of randomness. */
export function generateOrgKey(environment: KeyEnvironment): GeneratedKey {
  let body = '';
  for (let i = 0; i < SECRET_LENGTH; i++) body += ALPHABET[randomInt(ALPHABET.length)];
  const secret = `fk_${environment}_${body}`;
  return { secret, hash: hashOrgKey(secret), displayPrefix: secret.slice(0, 12) };
}

/** True when a presented value has the shape of an org key. */
export function isWellFormedOrgKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/**
 * SHA-256 of a key. Keys carry 256 random bits, so a fast hash is safe here (no dictionary to
 * attack) and keeps authentication to one indexed lookup.
 */
export function hashOrgKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
