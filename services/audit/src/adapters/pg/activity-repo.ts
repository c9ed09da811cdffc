import type { JsonObject } from '@bufbuild/protobuf';
import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { HourCounts } from '../../domain/anomaly.js';

/** One user's decisions in one hour. */
export interface ActivityHour extends HourCounts {
  subjectId: string;
  hour: Date;
}

/** An anomaly to record, with the notification data it is published with. */
export interface AnomalyRecord {
  subjectId: string;
  hour: Date;
  eventId: string;
  data: JsonObject;
}

/** A recorded anomaly not yet acked by the stream. */
export interface UnpublishedAnomaly {
  eventId: string;
  data: JsonObject;
  foundAt: Date;
}

const HOUR_ROWS = `SELECT subject_id, hour, requests, denies FROM activity_hours`;

interface HourRow {
  subject_id: string;
  hour: Date;
  requests: number;
  denies: number;
}

const toHour = (r: HourRow): ActivityHour => ({
  subjectId: r.subject_id,
  hour: r.hour,
  requests: r.requests,
  denies: r.denies,
});

/**
 * Anomaly detection's store: decisions rolled up per user and hour from the log, and the
 * anomalies found. The roll-up reads each org's log once, by chain position.
 */
export function createActivityRepo(pool: pg.Pool) {
  return {
    /** Every org that has a log. */
    async orgs(): Promise<string[]> {
      const { rows } = await pool.query<{ org_id: string }>(
        'SELECT org_id FROM chained_orgs() AS org_id',
      );
      return rows.map((r) => r.org_id);
    },

    /**
     * Adds the org's next (at most `batch`) log rows to the hourly counts — decisions that
     * occurred since `since`, per subject — and moves the org's cursor past them, in one
     * transaction under a lock on the cursor (replicas take turns; no row is counted twice).
     * Resolves with how many log rows it went past (0: caught up).
     */
    async rollUp(orgId: string, since: Date, batch: number): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        await db.query('INSERT INTO activity_cursors (org_id) VALUES ($1) ON CONFLICT DO NOTHING', [
          orgId,
        ]);
        const { rows } = await db.query<{ from_seq: string; to_seq: string }>(
          `SELECT c.seq::text AS from_seq, LEAST(h.seq, c.seq + $2)::text AS to_seq
           FROM activity_cursors c JOIN chain_heads h USING (org_id)
           WHERE c.org_id = $1 FOR UPDATE OF c`,
          [orgId, batch],
        );
        const r = rows[0];
        if (!r || BigInt(r.to_seq) <= BigInt(r.from_seq)) return 0;
        await db.query(
          `INSERT INTO activity_hours AS a (org_id, subject_id, hour, requests, denies)
           SELECT $1, actor->>'subjectId', date_trunc('hour', occurred_at, 'UTC'), count(*),
             count(*) FILTER (WHERE decision = 'deny')
           FROM events
           WHERE org_id = $1 AND org_seq > $2 AND org_seq <= $3 AND kind = 'decision'
             AND occurred_at >= $4 AND coalesce(actor->>'subjectId', '') <> ''
           GROUP BY 2, 3
           ON CONFLICT (org_id, subject_id, hour) DO UPDATE
             SET requests = a.requests + EXCLUDED.requests, denies = a.denies + EXCLUDED.denies`,
          [orgId, r.from_seq, r.to_seq, since],
        );
        await db.query('UPDATE activity_cursors SET seq = $2 WHERE org_id = $1', [orgId, r.to_seq]);
        return Number(BigInt(r.to_seq) - BigInt(r.from_seq));
      });
    },

    /** Users with at least `minRequests` requests or `minDenies` denies in one of `hours`. */
    async busyHours(
      orgId: string,
      hours: Date[],
      floors: { minRequests: number; minDenies: number },
    ): Promise<ActivityHour[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<HourRow>(
          `${HOUR_ROWS} WHERE org_id = $1 AND hour = ANY($2::timestamptz[])
             AND (requests >= $3 OR denies >= $4)
           ORDER BY hour, subject_id`,
          [orgId, hours, floors.minRequests, floors.minDenies],
        );
        return rows.map(toHour);
      });
    },

    /** The hours of `subjectId` in [from, to) that had decisions. */
    async history(orgId: string, subjectId: string, from: Date, to: Date): Promise<ActivityHour[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<HourRow>(
          `${HOUR_ROWS} WHERE org_id = $1 AND subject_id = $2 AND hour >= $3 AND hour < $4`,
          [orgId, subjectId, from, to],
        );
        return rows.map(toHour);
      });
    },

    /** Records anomalies; one already recorded for the same user and hour is kept as it was. */
    async record(orgId: string, found: AnomalyRecord[]): Promise<void> {
      if (found.length === 0) return;
      await inTenant(pool, orgId, (db) =>
        db.query(
          `INSERT INTO anomalies (org_id, subject_id, hour, event_id, data)
           SELECT $1, f->>'subjectId', (f->>'hour')::timestamptz, (f->>'eventId')::uuid, f->'data'
           FROM jsonb_array_elements($2::jsonb) AS f
           ON CONFLICT DO NOTHING`,
          [orgId, JSON.stringify(found.map((f) => ({ ...f, hour: f.hour.toISOString() })))],
        ),
      );
    },

    /** The org's anomalies not yet published, oldest first. */
    async unpublished(orgId: string): Promise<UnpublishedAnomaly[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ event_id: string; data: JsonObject; found_at: Date }>(
          `SELECT event_id::text, data, found_at FROM anomalies
           WHERE org_id = $1 AND published_at IS NULL ORDER BY found_at LIMIT 100`,
          [orgId],
        );
        return rows.map((r) => ({ eventId: r.event_id, data: r.data, foundAt: r.found_at }));
      });
    },

    /** Marks an anomaly as acked by the stream. */
    async published(orgId: string, eventId: string): Promise<void> {
      await inTenant(pool, orgId, (db) =>
        db.query('UPDATE anomalies SET published_at = now() WHERE org_id = $1 AND event_id = $2', [
          orgId,
          eventId,
        ]),
      );
    },

    /** Drops hourly counts older than `before` (outside any baseline). */
    async prune(orgId: string, before: Date): Promise<void> {
      await inTenant(pool, orgId, (db) =>
        db.query('DELETE FROM activity_hours WHERE org_id = $1 AND hour < $2', [orgId, before]),
      );
    },
  };
}

/** The activity repository. */
export type ActivityRepo = ReturnType<typeof createActivityRepo>;
