import { z } from 'zod';
import { serviceEnv } from '@fortress/kit/config';

const seconds = (fallback: number, min: number, max: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** Identity's configuration, from the environment. */
export const identityConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
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
});

/** Identity's parsed configuration. */
export type IdentityConfig = z.infer<typeof identityConfig>;
