import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import type { DeliveryJob } from '../../domain/webhook-job.js';
import { appendInTenant } from './chain-writer.js';
import type { VersionedSecret } from './webhook-repo.js';

/** Where a delivery stands. */
export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** A notification event to deliver: the body every attempt sends. */
export interface WebhookMessage {
  eventId: string;
  type: string;
  occurredAt: Date;
  body: string;
}

/** Everything one attempt needs, read together. */
export interface AttemptTarget {
  url: string;
  enabled: boolean;
  /** The current secret, then the previous one while its overlap lasts. */
  secrets: VersionedSecret[];
  type: string;
  body: string;
  state: DeliveryState;
}

/** The outcome of one attempt, as logged. */
export interface AttemptRecord {
  attemptedAt: Date;
  statusCode: number | null;
  error: string | null;
  latencyMs: number;
  /** The delivery's state after it. */
  state: DeliveryState;
}

/** One attempt as listed. */
export interface LoggedAttempt extends AttemptRecord {
  attempt: number;
}

/** One delivery as listed, with every attempt. */
export interface LoggedDelivery {
  id: string;
  subscriptionId: string;
  eventId: string;
  type: string;
  state: DeliveryState;
  createdAt: Date;
  updatedAt: Date;
  replays: number;
  attempts: LoggedAttempt[];
}

/** What the delivery log is filtered by. */
export interface DeliveryFilter {
  subscriptionId?: string;
  eventId?: string;
  state?: DeliveryState;
  /** Only deliveries listed after this one (a page token). */
  beforeId?: string;
  limit: number;
}

const ONE = 'org_id = $1 AND event_id = $2 AND subscription_id = $3';

const LIST = `SELECT d.id::text, d.subscription_id, d.event_id::text, m.type, d.state, d.created_at,
    d.updated_at, d.replays,
    coalesce((SELECT json_agg(json_build_object('attempt', a.attempt,
        'attemptedAt', a.attempted_at, 'statusCode', a.status_code, 'error', a.error,
        'latencyMs', a.latency_ms, 'state', a.state) ORDER BY a.attempt)
      FROM webhook_attempts a WHERE a.delivery_id = d.id), '[]') AS attempts
  FROM webhook_deliveries d JOIN webhook_messages m USING (org_id, event_id)
  WHERE d.org_id = $1
    AND ($2::text IS NULL OR d.subscription_id = $2)
    AND ($3::uuid IS NULL OR d.event_id = $3)
    AND ($4::text IS NULL OR d.state = $4)
    AND ($5::bigint IS NULL OR d.id < $5)
  ORDER BY d.id DESC LIMIT $6`;

interface ListRow {
  id: string;
  subscription_id: string;
  event_id: string;
  type: string;
  state: DeliveryState;
  created_at: Date;
  updated_at: Date;
  replays: number;
  attempts: Array<Omit<LoggedAttempt, 'attemptedAt'> & { attemptedAt: string }>;
}

const toDelivery = (r: ListRow): LoggedDelivery => ({
  id: r.id,
  subscriptionId: r.subscription_id,
  eventId: r.event_id,
  type: r.type,
  state: r.state,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  replays: r.replays,
  attempts: r.attempts.map((a) => ({ ...a, attemptedAt: new Date(a.attemptedAt) })),
});

/**
 * Webhook messages, deliveries and attempts in PostgreSQL: the durable record of what was
 * accepted for delivery. BullMQ runs the attempts; this is what survives Redis.
 */
export function createDeliveryRepo(pool: pg.Pool, now: () => Date = () => new Date()) {
  return {
    /**
     * Records a notification for the org's enabled subscriptions that `wants` it (one
     * delivery each; a redelivered event adds nothing), and returns the deliveries of this
     * event still pending — the jobs to (re-)enqueue.
     */
    async accept(
      orgId: string,
      message: WebhookMessage,
      wants: (eventTypes: string[]) => boolean,
    ): Promise<DeliveryJob[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows: subs } = await db.query<{ id: string; event_types: string[] }>(
          'SELECT id, event_types FROM webhook_subscriptions WHERE org_id = $1 AND enabled',
          [orgId],
        );
        const ids = subs.filter((s) => wants(s.event_types)).map((s) => s.id);
        if (ids.length === 0) return [];
        await db.query(
          `INSERT INTO webhook_messages (org_id, event_id, type, occurred_at, body)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
          [orgId, message.eventId, message.type, message.occurredAt, message.body],
        );
        await db.query(
          `INSERT INTO webhook_deliveries (org_id, event_id, subscription_id)
           SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
          [orgId, message.eventId, ids],
        );
        const { rows } = await db.query<{ subscription_id: string; replays: number }>(
          `SELECT subscription_id, replays FROM webhook_deliveries
           WHERE org_id = $1 AND event_id = $2 AND subscription_id = ANY($3) AND state = 'pending'`,
          [orgId, message.eventId, ids],
        );
        return rows.map((r) => ({
          orgId,
          eventId: message.eventId,
          subscriptionId: r.subscription_id,
          replays: r.replays,
        }));
      });
    },

    /** What an attempt of this delivery needs; undefined when the delivery is gone. */
    async target(job: DeliveryJob): Promise<AttemptTarget | undefined> {
      return inTenant(pool, job.orgId, async (db) => {
        const { rows } = await db.query<{
          url: string;
          enabled: boolean;
          key_id: string;
          ciphertext: Buffer;
          version: number;
          prev_key_id: string | null;
          prev_ciphertext: Buffer | null;
          type: string;
          body: string;
          state: DeliveryState;
        }>(
          `SELECT s.url, s.enabled, s.secret_key_id AS key_id, s.secret_ciphertext AS ciphertext,
             s.secret_version AS version,
             CASE WHEN s.previous_secret_until > now() THEN s.previous_secret_key_id END AS prev_key_id,
             CASE WHEN s.previous_secret_until > now() THEN s.previous_secret_ciphertext END AS prev_ciphertext,
             m.type, m.body, d.state
           FROM webhook_deliveries d
           JOIN webhook_subscriptions s ON s.org_id = d.org_id AND s.id = d.subscription_id
           JOIN webhook_messages m ON m.org_id = d.org_id AND m.event_id = d.event_id
           WHERE d.org_id = $1 AND d.event_id = $2 AND d.subscription_id = $3`,
          [job.orgId, job.eventId, job.subscriptionId],
        );
        const r = rows[0];
        if (!r) return undefined;
        const secrets: VersionedSecret[] = [
          { keyId: r.key_id, ciphertext: r.ciphertext, version: r.version },
        ];
        if (r.prev_key_id && r.prev_ciphertext)
          secrets.push({
            keyId: r.prev_key_id,
            ciphertext: r.prev_ciphertext,
            version: r.version - 1,
          });
        return {
          url: r.url,
          enabled: r.enabled,
          secrets,
          type: r.type,
          body: r.body,
          state: r.state,
        };
      });
    },

    /** Logs an attempt and moves the delivery to its state; the attempt's number. */
    async recordAttempt(job: DeliveryJob, a: AttemptRecord): Promise<number | undefined> {
      return inTenant(pool, job.orgId, async (db) => {
        const { rows } = await db.query<{ attempt: number }>(
          `WITH d AS (
             UPDATE webhook_deliveries SET attempts = attempts + 1, state = $4, updated_at = now()
             WHERE ${ONE} RETURNING id, org_id, attempts)
           INSERT INTO webhook_attempts (delivery_id, org_id, attempt, attempted_at, status_code,
             error, latency_ms, state)
           SELECT id, org_id, attempts, $5, $6, $7, $8, $4 FROM d RETURNING attempt`,
          [
            job.orgId,
            job.eventId,
            job.subscriptionId,
            a.state,
            a.attemptedAt,
            a.statusCode,
            a.error,
            a.latencyMs,
          ],
        );
        return rows[0]?.attempt;
      });
    },

    /** The org's deliveries, newest first, each with its attempts. */
    async list(orgId: string, f: DeliveryFilter): Promise<LoggedDelivery[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<ListRow>(LIST, [
          orgId,
          f.subscriptionId ?? null,
          f.eventId ?? null,
          f.state ?? null,
          f.beforeId ?? null,
          f.limit,
        ]);
        return rows.map(toDelivery);
      });
    },

    /**
     * Puts a delivery back to pending for a replay and records who asked (`change`), in one
     * transaction; the job to enqueue, or undefined when there is no such delivery.
     */
    async replay(
      job: Omit<DeliveryJob, 'replays'>,
      change: () => AuditRow,
    ): Promise<DeliveryJob | undefined> {
      return inTenant(pool, job.orgId, async (db) => {
        const { rows } = await db.query<{ replays: number }>(
          `UPDATE webhook_deliveries SET state = 'pending', replays = replays + 1, updated_at = now()
           WHERE ${ONE} RETURNING replays`,
          [job.orgId, job.eventId, job.subscriptionId],
        );
        const r = rows[0];
        if (!r) return undefined;
        await appendInTenant(db, job.orgId, [change()], now());
        return { ...job, replays: r.replays };
      });
    },

    /** Pending deliveries of every org untouched for `olderMs`, oldest first (ids only). */
    async stalled(olderMs: number, limit: number): Promise<DeliveryJob[]> {
      const { rows } = await pool.query<{
        org_id: string;
        event_id: string;
        subscription_id: string;
        replays: number;
      }>("SELECT * FROM stalled_webhook_deliveries(($1 || ' milliseconds')::interval, $2)", [
        String(olderMs),
        limit,
      ]);
      return rows.map((r) => ({
        orgId: r.org_id,
        eventId: r.event_id,
        subscriptionId: r.subscription_id,
        replays: r.replays,
      }));
    },

    /** Marks a pending delivery as looked at now (the sweeper checked its job). */
    async touch(job: DeliveryJob): Promise<void> {
      await inTenant(pool, job.orgId, (db) =>
        db.query(
          `UPDATE webhook_deliveries SET updated_at = now() WHERE ${ONE} AND state = 'pending'`,
          [job.orgId, job.eventId, job.subscriptionId],
        ),
      );
    },
  };
}

/** The delivery repository. */
export type DeliveryRepo = ReturnType<typeof createDeliveryRepo>;
