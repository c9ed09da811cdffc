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
});
