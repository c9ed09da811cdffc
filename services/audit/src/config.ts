import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Audit's configuration, from the environment. */
export const auditConfig = z.object({
  ...serviceEnv,
  FORTRESS_DATABASE_URL: z.string().min(1),
  FORTRESS_NATS_URL: z.string().min(1),
  /** Connections to PostgreSQL; orgs of a batch are written in parallel on them. */
  FORTRESS_AUDIT_DB_POOL: positive(10),
  /** Most events committed per batch. */
  FORTRESS_AUDIT_BATCH_MAX: positive(2000),
  /** Ed25519 private JWK (with a kid) that signs checkpoints. */
  FORTRESS_AUDIT_SIGNING_KEY_FILE: z.string().min(1),
  /** Extra public JWKs, comma-separated: keys that signed older checkpoints (after a rotation). */
  FORTRESS_AUDIT_VERIFY_KEY_FILES: z.string().default(''),
  /** A checkpoint every N events of an org… */
  FORTRESS_AUDIT_CHECKPOINT_EVERY: positive(10_000),
  /** …or once its oldest unsigned event is this old. */
  FORTRESS_AUDIT_CHECKPOINT_INTERVAL_MS: millis(60_000),
  /** Verifications running at once (each holds a connection while it reads a whole chain). */
  FORTRESS_AUDIT_VERIFY_CONCURRENCY: positive(2),
  /** How often rows past retention are deleted. */
  FORTRESS_AUDIT_RETENTION_INTERVAL_MS: millis(3_600_000),
  /** The object store that keeps checkpoint copies; unset endpoint means AWS S3 itself. */
  FORTRESS_AUDIT_S3_ENDPOINT: z.url().optional(),
  FORTRESS_AUDIT_S3_REGION: z.string().min(1).default('us-east-1'),
  FORTRESS_AUDIT_S3_BUCKET: z.string().min(3),
  /** Redis for the webhook delivery queue (BullMQ); give it AOF and `noeviction`. */
  FORTRESS_REDIS_URL: z.string().min(1),
  /**
   * Symmetric JWK files (`kty: oct`, 256-bit, with a kid), comma-separated, that encrypt
   * webhook signing secrets at rest: the first seals, all open (list older keys after a key
   * rotation until no subscription uses them).
   */
  FORTRESS_AUDIT_WEBHOOK_KEY_FILES: z.string().min(1),
  /**
   * "production": https only, targets must resolve to public addresses. "development": also
   * http to a loopback host, no address checks (local receivers).
   */
  FORTRESS_AUDIT_WEBHOOK_MODE: z.enum(['production', 'development']).default('production'),
  /** Attempts per delivery before it is dead-lettered. */
  FORTRESS_AUDIT_WEBHOOK_ATTEMPTS: positive(10),
  /** The first retry's delay; each next one doubles (10 attempts span about 85 minutes). */
  FORTRESS_AUDIT_WEBHOOK_BACKOFF_MS: millis(10_000),
  /** Per attempt, for the whole exchange with the receiver. */
  FORTRESS_AUDIT_WEBHOOK_TIMEOUT_MS: millis(10_000),
  /** Deliveries in flight at once per replica. */
  FORTRESS_AUDIT_WEBHOOK_CONCURRENCY: positive(16),
  /** A pending delivery untouched this long is checked for a job Redis lost… */
  FORTRESS_AUDIT_WEBHOOK_SWEEP_AFTER_MS: millis(5 * 60_000),
  /** …this often. */
  FORTRESS_AUDIT_WEBHOOK_SWEEP_INTERVAL_MS: millis(60_000),
  FORTRESS_REDIS_TIMEOUT_MS: millis(2000),
});
