import { createHash, randomInt } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** 43 base62 characters carry 256 bits of randomness. */
const SECRET_LENGTH = 43;
const KEY_PATTERN = /^fk_(live|test)_[A-Za-z0-9]{43}$/;
/** A Fortress token: what an org key plus an IdP token are exchanged for. */
const TOKEN_PATTERN = /^fk_tok_[A-Za-z0-9]{43}$/;

/** Where a key may be used: production traffic or testing. */
export type KeyEnvironment = 'live' | 'test';

/** A freshly generated org key: the secret (shown once) and what is stored. */
export interface GeneratedKey {
  secret: string;
  hash: Buffer;
  displayPrefix: string;
}

/** What a presented Fortress credential is, by its shape. */
export type CredentialShape = 'org_key' | 'exchanged_token';

/** 43 random base62 characters. */
function randomBody(): string {
  let body = '';
  for (let i = 0; i < SECRET_LENGTH; i++) body += ALPHABET[randomInt(ALPHABET.length)];
  return body;
}

/** Generates an org key `fk_live_…` / `fk_test_…` with 256 bits of randomness. */
export function generateOrgKey(environment: KeyEnvironment): GeneratedKey {
  const secret = `fk_${environment}_${randomBody()}`;
  return { secret, hash: hashOrgKey(secret), displayPrefix: secret.slice(0, 12) };
}

/** Generates a Fortress token `fk_tok_…` with 256 bits of randomness (stored as a hash). */
export function generateExchangedToken(): { secret: string; hash: Buffer } {
  const secret = `fk_tok_${randomBody()}`;
  return { secret, hash: hashOrgKey(secret) };
}

/** True when a presented value has the shape of an org key. */
export function isWellFormedOrgKey(value: string): boolean {
  return KEY_PATTERN.test(value);
}

/** The kind of Fortress credential a presented value is shaped like; undefined for neither. */
export function credentialShape(value: string): CredentialShape | undefined {
  if (KEY_PATTERN.test(value)) return 'org_key';
  if (TOKEN_PATTERN.test(value)) return 'exchanged_token';
  return undefined;
}

/**
 * SHA-256 of a key or Fortress token. Both carry 256 random bits, so a fast hash is safe here
 * (no dictionary to attack) and keeps authentication to one indexed lookup.
 */
export function hashOrgKey(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}
