import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

/** Policy's configuration, from the environment. */
export const policyConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  FORTRESS_NATS_URL: z.string().min(1),
  /** Redis for quotas (rate limits, token and spend caps), shared by every replica. */
  FORTRESS_REDIS_URL: z.string().min(1),
  /** Private Ed25519 JWK (with "kid") that signs decision tokens. */
  FORTRESS_DECISION_KEY_FILE: z.string().min(1),
  FORTRESS_DECISION_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(300).default(30),
  /**
   * Changes reach replicas by broadcast at once; as a safety net against a lost broadcast, a
   * loaded version older than this is re-checked against the database before it is used.
   */
  FORTRESS_POLICY_FRESHNESS_MS: millis(30_000),
  /** How long a quota reservation holds before it is released as leaked. */
  FORTRESS_QUOTA_LEASE_MS: millis(10 * 60_000),
  FORTRESS_REDIS_TIMEOUT_MS: millis(500),
  FORTRESS_AUDIT_ACK_TIMEOUT_MS: millis(2000),
  /** A JSON file of price-book entries and aliases added to the built-in book (optional). */
  FORTRESS_PRICE_BOOK_FILE: z.string().optional(),
});
