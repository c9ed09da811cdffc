import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

/** Policy's configuration, from the environment. */
export const policyConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  /** Private Ed25519 JWK (with "kid") that signs decision tokens. */
  FORTRESS_DECISION_KEY_FILE: z.string().min(1),
  FORTRESS_DECISION_TOKEN_TTL_SECONDS: z.coerce.number().int().min(1).max(300).default(30),
  /** How long a loaded policy version is trusted before the version is re-read. */
  FORTRESS_POLICY_FRESHNESS_MS: millis(1000),
});
