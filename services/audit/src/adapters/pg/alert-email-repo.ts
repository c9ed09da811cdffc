import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AlertJob } from '../../domain/alert-job.js';

/** Where an alert email stands. */
export type AlertState = 'pending' | 'sent' | 'failed';

/** An alert email to record: rendered once, sent as stored. */
export interface NewAlertEmail {
  alertId: string;
  eventId: string;
  type: string;
  recipients: string[];
  subject: string;
  body: string;
}

/** What an attempt sends. */
export interface StoredAlertEmail {
  type: string;
  recipients: string[];
  subject: string;
  body: string;
  state: AlertState;
}

/** One alert email as listed. */
export interface LoggedAlertEmail {
  id: string;
  alertId: string;
  eventId: string;
  type: string;
  recipients: string[];
  subject: string;
  state: AlertState;
  attempts: number;
  lastError: string | null;
  createdAt: Date;
  sentAt: Date | null;
}

const ONE = 'org_id = $1 AND alert_id = $2';

/**
 * Alert emails in PostgreSQL: the durable record of what was accepted for sending. BullMQ
 * runs the attempts; this is what survives Redis.
 */
export function createAlertEmailRepo(pool: pg.Pool) {
  return {
    /**
     * Records an alert email (an alert already recorded adds nothing) and returns its job
     * while it is still pending — the job to (re-)enqueue.
     */
    async accept(orgId: string, e: NewAlertEmail): Promise<AlertJob[]> {
      return inTenant(pool, orgId, async (db) => {
        await db.query(
          `INSERT INTO alert_emails (org_id, alert_id, event_id, type, recipients, subject, body)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          [orgId, e.alertId, e.eventId, e.type, e.recipients, e.subject, e.body],
        );
        const { rows } = await db.query<{ alert_id: string }>(
          `SELECT alert_id::text FROM alert_emails WHERE ${ONE} AND state = 'pending'`,
          [orgId, e.alertId],
        );
        return rows.map((r) => ({ orgId, alertId: r.alert_id }));
      });
    },

    /** What an attempt sends; undefined when there is no such email. */
    async message(job: AlertJob): Promise<StoredAlertEmail | undefined> {
      return inTenant(pool, job.orgId, async (db) => {
        const { rows } = await db.query<StoredAlertEmail>(
          `SELECT type, recipients, subject, body, state FROM alert_emails WHERE ${ONE}`,
          [job.orgId, job.alertId],
        );
        return rows[0];
      });
    },

    /** Counts an attempt and moves the email to its state; the attempt's number. */
    async recordAttempt(
      job: AlertJob,
      state: AlertState,
      error: string | null,
    ): Promise<number | undefined> {
      return inTenant(pool, job.orgId, async (db) => {
        const { rows } = await db.query<{ attempts: number }>(
          `UPDATE alert_emails SET attempts = attempts + 1, state = $3, last_error = $4,
             updated_at = now(), sent_at = CASE WHEN $3 = 'sent' THEN now() END
           WHERE ${ONE} RETURNING attempts`,
          [job.orgId, job.alertId, state, error],
        );
        return rows[0]?.attempts;
      });
    },

    /** The org's alert emails, newest first. */
    async list(
      orgId: string,
      f: { type?: string; beforeId?: string; limit: number },
    ): Promise<LoggedAlertEmail[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{
          id: string;
          alert_id: string;
          event_id: string;
          type: string;
          recipients: string[];
          subject: string;
          state: AlertState;
          attempts: number;
          last_error: string | null;
          created_at: Date;
          sent_at: Date | null;
        }>(
          `SELECT id::text, alert_id::text, event_id::text, type, recipients, subject, state,
             attempts, last_error, created_at, sent_at
           FROM alert_emails
           WHERE org_id = $1 AND ($2::text IS NULL OR type = $2)
             AND ($3::bigint IS NULL OR id < $3)
           ORDER BY id DESC LIMIT $4`,
          [orgId, f.type ?? null, f.beforeId ?? null, f.limit],
        );
        return rows.map((r) => ({
          id: r.id,
          alertId: r.alert_id,
          eventId: r.event_id,
          type: r.type,
          recipients: r.recipients,
          subject: r.subject,
          state: r.state,
          attempts: r.attempts,
          lastError: r.last_error,
          createdAt: r.created_at,
          sentAt: r.sent_at,
        }));
      });
    },

    /** Pending alert emails of every org untouched for `olderMs`, oldest first (ids only). */
    async stalled(olderMs: number, limit: number): Promise<AlertJob[]> {
      const { rows } = await pool.query<{ org_id: string; alert_id: string }>(
        "SELECT org_id, alert_id::text FROM stalled_alert_emails(($1 || ' milliseconds')::interval, $2)",
        [String(olderMs), limit],
      );
      return rows.map((r) => ({ orgId: r.org_id, alertId: r.alert_id }));
    },

    /** Marks a pending alert email as looked at now (the sweeper checked its job). */
    async touch(job: AlertJob): Promise<void> {
      await inTenant(pool, job.orgId, (db) =>
        db.query(`UPDATE alert_emails SET updated_at = now() WHERE ${ONE} AND state = 'pending'`, [
          job.orgId,
          job.alertId,
        ]),
      );
    },
  };
}

/** The alert email repository. */
export type AlertEmailRepo = ReturnType<typeof createAlertEmailRepo>;
