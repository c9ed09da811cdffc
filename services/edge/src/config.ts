import { z } from 'zod';
import { millis, port } from '@fortress/kit/config';

/** The edge's configuration, from the environment. */
export const edgeConfig = z.object({
  FORTRESS_HOST: z.string().default('127.0.0.1'),
  FORTRESS_EDGE_PORT: port(8787),
  FORTRESS_OPS_PORT: port(0),
  FORTRESS_TLS_DIR: z.string().min(1),
  FORTRESS_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
  FORTRESS_OTLP_TRACES_URL: z.url().optional(),
  FORTRESS_IDENTITY_URL: z.url(),
  FORTRESS_POSTURE_URL: z.url(),
  FORTRESS_POLICY_URL: z.url(),
  FORTRESS_VAULT_URL: z.url(),
  /** The audit service (admin API reads: usage, audit log). */
  FORTRESS_AUDIT_URL: z.url(),
  /** The billing service (admin API reads: account, invoices). */
  FORTRESS_BILLING_URL: z.url(),
  FORTRESS_NATS_URL: z.string().min(1),
  /** The real API (or the sandbox) that allowed requests go to. */
  FORTRESS_ANTHROPIC_BASE_URL: z.url().default('https://api.anthropic.com'),
  /** Deadline of each hop of the chain (identity, posture, policy, vault). */
  FORTRESS_HOP_TIMEOUT_MS: millis(2000),
  /** How long to wait for JetStream to acknowledge an audit event before failing closed. */
  FORTRESS_AUDIT_ACK_TIMEOUT_MS: millis(2000),
  FORTRESS_UPSTREAM_TIMEOUT_MS: millis(10 * 60_000),
  /** Connections to the upstream at most; 0 (the default) for no limit. */
  FORTRESS_UPSTREAM_MAX_SOCKETS: z.coerce.number().int().min(0).default(0),
  /** Largest request body accepted (Anthropic's own limit is 32 MB). */
  FORTRESS_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /** A JSON file of price-book entries and aliases added to the built-in book (optional). */
  FORTRESS_PRICE_BOOK_FILE: z.string().optional(),
  /** The object store of the PAT archive; unset endpoint means AWS S3 itself. */
  FORTRESS_ARCHIVE_S3_ENDPOINT: z.url().optional(),
  FORTRESS_ARCHIVE_S3_REGION: z.string().min(1).default('us-east-1'),
  FORTRESS_ARCHIVE_S3_BUCKET: z.string().min(3),
  /** Where sealed archive records wait for the object store (kept across restarts). */
  FORTRESS_ARCHIVE_SPOOL_DIR: z.string().min(1),
  /** Response bytes archived per exchange (the rest is marked truncated). */
  FORTRESS_ARCHIVE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(32 * 1024 * 1024),
  /** The archive is behind (orgs are notified) past this many waiting records… */
  FORTRESS_ARCHIVE_BEHIND_RECORDS: z.coerce.number().int().positive().default(1000),
  /** …or when the oldest has waited this long. */
  FORTRESS_ARCHIVE_BEHIND_MS: millis(60_000),
  /**
   * Records are stored in segments, one object for many requests: a segment closes at this
   * age, this many records or this many bytes, whichever is first.
   */
  FORTRESS_ARCHIVE_SEGMENT_MAX_AGE_MS: millis(1000),
  FORTRESS_ARCHIVE_SEGMENT_MAX_RECORDS: z.coerce.number().int().positive().default(1000),
  FORTRESS_ARCHIVE_SEGMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(16 * 1024 * 1024),
  /** Records waiting for an archive key are held in memory up to this many bytes. */
  FORTRESS_ARCHIVE_MAX_PENDING_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024 * 1024),
  /**
   * Where connectors may connect: "production" (https to public addresses only, checked at
   * each connection against DNS rebinding) or "development" (also http and loopback, for the
   * local stack's sandbox SaaS).
   */
  FORTRESS_CONNECTOR_NETWORK: z.enum(['production', 'development']).default('production'),
  /** Browser origins allowed on /v1/mcp (comma-separated); requests without Origin pass. */
  FORTRESS_MCP_ALLOWED_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean),
    ),
  /** Largest MCP request body. */
  FORTRESS_MCP_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** Largest tools/call arguments (as JSON). */
  FORTRESS_MCP_MAX_ARGUMENT_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(256 * 1024),
  /** How long a SaaS call may take. */
  FORTRESS_MCP_UPSTREAM_TIMEOUT_MS: millis(30_000),
  /** Tools per tools/list page. */
  FORTRESS_MCP_PAGE_SIZE: z.coerce.number().int().min(1).max(1000).default(100),
  /** How long a change parked for a second admin's approval waits before it expires (S8). */
  FORTRESS_APPROVAL_TTL_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(7 * 24 * 3600_000)
    .default(72 * 3600_000),
  /** How long a client may cache its tool list (2026-07-28 ttlMs). */
  FORTRESS_MCP_LIST_TTL_MS: millis(60_000),
});

/** The edge's configuration. */
export type EdgeConfig = z.infer<typeof edgeConfig>;
