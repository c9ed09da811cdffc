import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Identity's configuration, from the environment. */
export const identityConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  /** JetStream, where member changes are published (billing's seat ledger follows them). */
  FORTRESS_NATS_URL: z.string().min(1),
  /** Bound on a JetStream acknowledgement of one member change event. */
  FORTRESS_EVENT_ACK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5000),
  /** Ed25519 private key (a private JWK with "kid", or a PKCS#8 PEM) that signs admin access tokens. */
  FORTRESS_SESSION_SIGNING_KEY_FILE: z.string().min(1),
  /** Lifetime of an admin access token. */
  FORTRESS_SESSION_ACCESS_TTL_SECONDS: seconds(15 * 60, 30, 3600),
  /** Absolute lifetime of an admin session, however often it is refreshed. */
  FORTRESS_SESSION_MAX_AGE_SECONDS: seconds(12 * 3600, 300, 30 * 24 * 3600),
  /** Consecutive failed logins that lock an admin account… */
  FORTRESS_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1000).default(10),
  /** …for this long. */
  FORTRESS_LOGIN_LOCK_SECONDS: seconds(15 * 60, 1, 24 * 3600),
  /**
   * A JWKS fetch slower than this fails the request closed (Unavailable: the edge's 503).
   * Below the edge's hop timeout, so identity says why before the edge gives up.
   */
  FORTRESS_IDP_JWKS_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(1500),
  /** After a JWKS fetch, an unknown key id triggers no other fetch for this long. */
  FORTRESS_IDP_JWKS_COOLDOWN_SECONDS: seconds(30, 0, 3600),
  /** A fetched JWKS is used this long before it is fetched again. */
  FORTRESS_IDP_JWKS_MAX_AGE_SECONDS: seconds(600, 1, 24 * 3600),
  /** Allowed clock skew with an IdP when checking exp / nbf / iat (at most a minute). */
  FORTRESS_IDP_CLOCK_TOLERANCE_SECONDS: seconds(30, 0, 60),
  /** Lifetime cap of an exchanged Fortress token (fk_tok_…); it never outlives its IdP token. */
  FORTRESS_EXCHANGED_TOKEN_MAX_SECONDS: seconds(3600, 60, 3600),
});

/** Identity's parsed configuration. */
export type IdentityConfig = z.infer<typeof identityConfig>;
