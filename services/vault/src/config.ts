import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

/** The vault's configuration, from the environment. */
export const vaultConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  /** Policy's public Ed25519 JWK, which verifies decision tokens. */
  FORTRESS_DECISION_PUBLIC_KEY_FILE: z.string().min(1),
  /** KMS endpoint override (the local KMS-compatible endpoint); AWS KMS when unset. */
  FORTRESS_KMS_ENDPOINT: z.url().optional(),
  FORTRESS_KMS_REGION: z.string().default('us-east-1'),
  /** The service-managed KMS key (SOHO tier). */
  FORTRESS_KMS_KEY_ID: z.string().min(1),
  FORTRESS_KMS_TIMEOUT_MS: millis(2000),
  /** Bounds on reusing an unwrapped data key. */
  FORTRESS_DATA_KEY_MAX_AGE_MS: millis(5 * 60_000),
  FORTRESS_DATA_KEY_MAX_USES: z.coerce.number().int().positive().default(10_000),
});
