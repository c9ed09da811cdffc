import { createHmac, randomBytes } from 'node:crypto';
import { Secret } from '@fortress/kit/secret';

const PREFIX = 'whsec_';
const SECRET_BYTES = 32;

/** A new signing secret: 32 random bytes (Standard Webhooks asks for 24 to 64). */
export function newSigningKey(): Secret {
  return new Secret(randomBytes(SECRET_BYTES));
}

/** How the secret is shown to its owner, once: `whsec_` and the base64 of its bytes. */
export function formatSecret(key: Secret): string {
  return `${PREFIX}${key.bytes().toString('base64')}`;
}

/** The Standard Webhooks headers of one attempt. */
export interface SignedHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

/**
 * Signs a delivery as Standard Webhooks does: HMAC-SHA256 over `${id}.${timestamp}.${body}`
 * with the secret's bytes, base64, as `v1,<sig>`; one signature per key, space-separated, so
 * receivers still verify with the previous secret while a rotation settles.
 */
export function signDelivery(
  keys: readonly Secret[],
  id: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  const signed = `${id}.${timestampSeconds}.${body}`;
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': keys
      .map((k) => `v1,${createHmac('sha256', k.bytes()).update(signed).digest('base64')}`)
      .join(' '),
  };
}
