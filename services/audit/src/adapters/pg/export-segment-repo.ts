import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import { segmentsOf, spanExported, type SegmentSpan } from '../../domain/export-segment.js';
import { AUDIT_COLUMNS, type StoredAuditRow } from './audit-store.js';

/**
 * Queues the span `previousSeq+1 .. headSeq` that a periodic checkpoint seals, when the org
 * exports it, inside the checkpoint's own transaction (the caller holds the chain head lock,
 * so the setting read here is the one in force at the head). Two statements, whatever the
 * span's length: the checkpoint stays as quick as it was.
 */
export async function queueExportSpan(
  db: Queryable,
  orgId: string,
  previousSeq: bigint,
  headSeq: bigint,
  segmentMax: number,
): Promise<number> {
  const { rows } = await db.query<{ enabled: boolean; changed_seq: string }>(
    'SELECT enabled, changed_seq::text FROM export_settings WHERE org_id = $1',
    [orgId],
  );
  const setting = rows[0] && { enabled: rows[0].enabled, changedSeq: BigInt(rows[0].changed_seq) };
  if (!spanExported(setting, previousSeq)) return 0;
  const segments = segmentsOf(orgId, previousSeq + 1n, headSeq, segmentMax);
  await db.query(
    `INSERT INTO export_segments (org_id, first_seq, last_seq, checkpoint_seq)
     SELECT $1, f, l, $4 FROM unnest($2::bigint[], $3::bigint[]) AS s(f, l)
     ON CONFLICT (org_id, first_seq) DO NOTHING`,
    [
      orgId,
      segments.map((s) => s.firstSeq.toString()),
      segments.map((s) => s.lastSeq.toString()),
      headSeq.toString(),
    ],
  );
  return segments.length;
}

/** A stored row with its chain hash, as a segment carries it. */
export type SegmentRow = StoredAuditRow & { hash: Buffer };

/** What one attempt at an org's oldest pending segment came to. */
export type ExportAttempt =
  | { outcome: 'written'; segment: SegmentSpan }
  | { outcome: 'failed'; segment: SegmentSpan; error: unknown };

/** Writes a segment's rows to the object store. */
export type SegmentWriter = (segment: SegmentSpan, rows: SegmentRow[]) => Promise<void>;

/** The export's outbox in PostgreSQL: segments owed, written one at a time. */
export function createExportSegmentRepo(pool: pg.Pool) {
  return {
    /** Orgs owing segments, the longest-waiting first. Ids only. */
    async pendingOrgs(limit: number): Promise<string[]> {
      const { rows } = await pool.query<{ org_id: string }>(
        'SELECT org_id FROM orgs_with_pending_export($1) AS org_id',
        [limit],
      );
      return rows.map((r) => r.org_id);
    },

    /**
     * Writes the org's oldest pending segment that no other replica is writing, and removes it
     * from the outbox; undefined when none is left. The segment's row stays locked while its
     * records are read and written, so replicas never write the same one at once; a failed
     * write is counted on it (with `classify(error)`, never the error's text) and left for a
     * later attempt.
     */
    async exportNext(
      orgId: string,
      write: SegmentWriter,
      classify: (error: unknown) => string,
    ): Promise<ExportAttempt | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows: next } = await db.query<{
          first_seq: string;
          last_seq: string;
          checkpoint_seq: string;
        }>(
          `SELECT first_seq::text, last_seq::text, checkpoint_seq::text FROM export_segments
            WHERE org_id = $1 ORDER BY first_seq LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [orgId],
        );
        const row = next[0];
        if (!row) return undefined;
        const segment: SegmentSpan = {
          orgId,
          firstSeq: BigInt(row.first_seq),
          lastSeq: BigInt(row.last_seq),
          checkpointSeq: BigInt(row.checkpoint_seq),
        };
        const { rows } = await db.query<SegmentRow>(
          `SELECT ${AUDIT_COLUMNS}, hash FROM events
            WHERE org_id = $1 AND org_seq BETWEEN $2 AND $3 ORDER BY events.org_seq`,
          [orgId, row.first_seq, row.last_seq],
        );
        try {
          await write(segment, rows);
        } catch (error) {
          await db.query(
            `UPDATE export_segments SET attempts = attempts + 1, last_error = $3, updated_at = now()
              WHERE org_id = $1 AND first_seq = $2`,
            [orgId, row.first_seq, classify(error)],
          );
          return { outcome: 'failed', segment, error };
        }
        await db.query('DELETE FROM export_segments WHERE org_id = $1 AND first_seq = $2', [
          orgId,
          row.first_seq,
        ]);
        return { outcome: 'written', segment };
      });
    },

    /** How many segments the org owes, and why the oldest last failed ("" when it did not). */
    async backlog(orgId: string): Promise<{ pending: number; lastError: string }> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ pending: number; last_error: string | null }>(
          `SELECT count(*)::int AS pending,
                  (SELECT last_error FROM export_segments WHERE org_id = $1
                    ORDER BY first_seq LIMIT 1) AS last_error
             FROM export_segments WHERE org_id = $1`,
          [orgId],
        );
        return { pending: rows[0]?.pending ?? 0, lastError: rows[0]?.last_error ?? '' };
      });
    },
  };
}

/** The export segment repository. */
export type ExportSegmentRepo = ReturnType<typeof createExportSegmentRepo>;
