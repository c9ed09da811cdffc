import { z } from 'zod';
import { millis, serviceEnv } from '@fortress/kit/config';

const positive = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** Audit's configuration, from the environment. */
export const auditConfig = z
  .object({
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
    /** The bucket of the continuous export (`audit-export/<org>/…`); unset: the bucket above. */
    FORTRESS_AUDIT_EXPORT_BUCKET: z.string().min(3).optional(),
    /**
     * Server-side encryption asked for every export segment: "AES256" (S3-managed keys),
     * "aws:kms" (FORTRESS_AUDIT_EXPORT_KMS_KEY_ID, else the bucket's default KMS key), or
     * "none" for an S3-compatible store that refuses the header.
     */
    FORTRESS_AUDIT_EXPORT_SSE: z.enum(['AES256', 'aws:kms', 'none']).default('AES256'),
    FORTRESS_AUDIT_EXPORT_KMS_KEY_ID: z.string().min(1).optional(),
    /** The most records in one export segment; a longer checkpoint span is sliced. */
    FORTRESS_AUDIT_EXPORT_SEGMENT_MAX: positive(10_000),
    /** How often segments still owed (after a failed write) are tried again. */
    FORTRESS_AUDIT_EXPORT_RETRY_MS: millis(30_000),
    /** Longest wait for the object store to take one segment. */
    FORTRESS_AUDIT_EXPORT_TIMEOUT_MS: millis(60_000),
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
    /** The SMTP relay alert emails go through; unset: no alert email is sent. */
    FORTRESS_AUDIT_SMTP_HOST: z.string().min(1).optional(),
    FORTRESS_AUDIT_SMTP_PORT: z.coerce.number().int().min(1).max(65535).default(587),
    /**
     * "starttls" (the default; refuses a relay without STARTTLS), "implicit" (TLS from the
     * first byte, port 465), or "none" (plain SMTP: a relay on loopback or a trusted network).
     */
    FORTRESS_AUDIT_SMTP_TLS: z.enum(['starttls', 'implicit', 'none']).default('starttls'),
    /** The relay's user name, when it wants authentication; the password is read from the file. */
    FORTRESS_AUDIT_SMTP_USER: z.string().min(1).optional(),
    FORTRESS_AUDIT_SMTP_PASSWORD_FILE: z.string().min(1).optional(),
    /** The From address of alert emails, e.g. `Fortress Alerts <alerts@example.com>`. */
    FORTRESS_AUDIT_SMTP_FROM: z.string().min(3).optional(),
    /** Per attempt: connecting, the greeting and each exchange with the relay. */
    FORTRESS_AUDIT_SMTP_TIMEOUT_MS: millis(30_000),
    /** Attempts per alert email before it is given up. */
    FORTRESS_AUDIT_ALERT_ATTEMPTS: positive(10),
    /** The first retry's delay; each next one doubles (10 attempts span about 4 hours). */
    FORTRESS_AUDIT_ALERT_BACKOFF_MS: millis(30_000),
    /** Alert emails in flight at once per replica. */
    FORTRESS_AUDIT_ALERT_CONCURRENCY: positive(4),
    /** A pending alert email untouched this long is checked for a job Redis lost… */
    FORTRESS_AUDIT_ALERT_SWEEP_AFTER_MS: millis(5 * 60_000),
    /** …this often. */
    FORTRESS_AUDIT_ALERT_SWEEP_INTERVAL_MS: millis(60_000),
    /** How often anomaly detection looks at the log. */
    FORTRESS_AUDIT_ANOMALY_INTERVAL_MS: millis(5 * 60_000),
  })
  .superRefine((c, ctx) => {
    if (c.FORTRESS_AUDIT_EXPORT_KMS_KEY_ID && c.FORTRESS_AUDIT_EXPORT_SSE !== 'aws:kms')
      ctx.addIssue({
        code: 'custom',
        path: ['FORTRESS_AUDIT_EXPORT_KMS_KEY_ID'],
        message: 'needs FORTRESS_AUDIT_EXPORT_SSE=aws:kms',
      });
    if (c.FORTRESS_AUDIT_SMTP_HOST && !c.FORTRESS_AUDIT_SMTP_FROM)
      ctx.addIssue({
        code: 'custom',
        path: ['FORTRESS_AUDIT_SMTP_FROM'],
        message: 'required when FORTRESS_AUDIT_SMTP_HOST is set',
      });
    if (!c.FORTRESS_AUDIT_SMTP_USER !== !c.FORTRESS_AUDIT_SMTP_PASSWORD_FILE)
      ctx.addIssue({
        code: 'custom',
        path: ['FORTRESS_AUDIT_SMTP_PASSWORD_FILE'],
        message: 'FORTRESS_AUDIT_SMTP_USER and FORTRESS_AUDIT_SMTP_PASSWORD_FILE go together',
      });
  });
