import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

const count = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const list = z
  .string()
  .default('')
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
  );

/** The vault's configuration, from the environment. */
export const vaultConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  /** JetStream, where change events and credential.expiring notifications go. */
  FORTRESS_NATS_URL: z.string().min(1),
  FORTRESS_EVENT_ACK_TIMEOUT_MS: millis(2000),
  /** Policy's public Ed25519 JWK, which verifies decision tokens. */
  FORTRESS_DECISION_PUBLIC_KEY_FILE: z.string().min(1),
  /** KMS endpoint override (the local KMS-compatible endpoint); AWS KMS when unset. */
  FORTRESS_KMS_ENDPOINT: z.url().optional(),
  FORTRESS_KMS_REGION: z.string().default('us-east-1'),
  /** The service-managed KMS key (SOHO tier). */
  FORTRESS_KMS_KEY_ID: z.string().min(1),
  /** Customers' KMS endpoints an org's key configuration may name (comma-separated URLs). */
  FORTRESS_KMS_ALLOWED_ENDPOINTS: list,
  /** The vault's own principal: what a customer's grant must name as grantee. */
  FORTRESS_KMS_PRINCIPAL: z.string().default(''),
  FORTRESS_KMS_TIMEOUT_MS: millis(2000),
  /** Bounds on reusing an unwrapped data key (SOHO). */
  FORTRESS_DATA_KEY_MAX_AGE_MS: millis(5 * 60_000),
  FORTRESS_DATA_KEY_MAX_USES: count(10_000),
  /**
   * Bank: how long an unwrapped data key may be reused — the bound on how long a revoked grant
   * still works on a replica that had the key cached.
   */
  FORTRESS_BANK_DATA_KEY_MAX_AGE_MS: millis(60_000),
  /** Zero Trust: the longest a session (and the key material it holds) may live. */
  FORTRESS_ZT_SESSION_MAX_TTL_MS: millis(15 * 60_000),
  FORTRESS_ZT_MAX_SESSIONS: count(10_000),
  /** Data key rotation period of orgs that set none. */
  FORTRESS_ROTATION_DAYS: count(90),
  /** How long a rotated credential's previous version keeps serving, by default. */
  FORTRESS_PAT_OVERLAP_SECONDS: count(48 * 3600),
  FORTRESS_CREDENTIAL_OVERLAP_SECONDS: count(48 * 3600),
  /** credential.expiring is sent this long before a credential expires. */
  FORTRESS_EXPIRY_NOTICE_MS: millis(7 * 24 * 3600_000),
  /** Background work: how often to look for due work, and how long a lease on an org lasts. */
  FORTRESS_WORKER_INTERVAL_MS: millis(5000),
  FORTRESS_WORKER_LEASE_MS: millis(30_000),
  FORTRESS_REWRAP_BATCH: count(500),
});

/** The parsed configuration. */
export type VaultConfig = z.infer<typeof vaultConfig>;
