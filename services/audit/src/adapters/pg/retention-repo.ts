import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import type { SignedCheckpoint } from '../../domain/checkpoint.js';
import type { AgedLink, TierName } from '../../domain/retention.js';
import { appendInTenant } from './chain-writer.js';

/** An org's retention setting; undefined tier means the default. */
export interface RetentionSetting {
  tier: TierName | undefined;
}

/** The oldest rows of an org with the cutoff before which rows may go, by the database clock. */
export interface RetentionWindow {
  rows: AgedLink[];
  cutoff: Date;
  /** When the rows were read (the signing time of a retention checkpoint over them). */
  readAt: Date;
}

/** Retention settings and the controlled delete, in PostgreSQL. */
export function createRetentionRepo(pool: pg.Pool, now: () => Date = () => new Date()) {
  return {
    /** The org's setting. */
    async get(orgId: string): Promise<RetentionSetting> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ tier: TierName }>(
          'SELECT tier FROM retention_policies WHERE org_id = $1',
          [orgId],
        );
        return { tier: rows[0]?.tier };
      });
    },

    /**
     * Sets the org's tier and, in the same transaction, appends `change` (the change-log row
     * of this very change) to the org's chain: the setting never changes unrecorded.
     */
    async set(orgId: string, tier: TierName, change: (before: RetentionSetting) => AuditRow) {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ tier: TierName }>(
          'SELECT tier FROM retention_policies WHERE org_id = $1 FOR UPDATE',
          [orgId],
        );
        const before: RetentionSetting = { tier: rows[0]?.tier };
        await db.query(
          `INSERT INTO retention_policies (org_id, tier) VALUES ($1, $2)
           ON CONFLICT (org_id) DO UPDATE SET tier = EXCLUDED.tier, updated_at = now()`,
          [orgId, tier],
        );
        await appendInTenant(db, orgId, [change(before)], now());
        return before;
      });
    },

    /** Every org that has a chain. */
    async orgs(): Promise<string[]> {
      const { rows } = await pool.query<{ org_id: string }>(
        'SELECT org_id FROM chained_orgs() AS org_id',
      );
      return rows.map((r) => r.org_id);
    },

    /**
     * The org's oldest `limit` rows in chain order, and its retention cutoff. Rows from the
     * first export segment still owed on are left out: retention never deletes what the
     * export has yet to write (apply_retention refuses it too).
     */
    async oldest(orgId: string, limit: number): Promise<RetentionWindow> {
      return inTenant(pool, orgId, async (db) => {
        const { rows: meta } = await db.query<{ cutoff: Date; read_at: Date }>(
          'SELECT now() - retention_period($1) AS cutoff, clock_timestamp() AS read_at',
          [orgId],
        );
        const { rows } = await db.query<{ seq: string; hash: Buffer; recorded_at: Date }>(
          `SELECT org_seq::text AS seq, hash, recorded_at FROM events
            WHERE org_id = $1
              AND org_seq < COALESCE(
                (SELECT min(first_seq) FROM export_segments WHERE org_id = $1),
                9223372036854775807)
            ORDER BY org_seq LIMIT $2`,
          [orgId, limit],
        );
        const m = meta[0];
        if (!m) throw new Error('no retention cutoff');
        return {
          cutoff: m.cutoff,
          readAt: m.read_at,
          rows: rows.map((r) => ({ seq: BigInt(r.seq), hash: r.hash, recordedAt: r.recorded_at })),
        };
      });
    },

    /** Records the retention checkpoint and deletes the rows it covers; the number deleted. */
    async apply(cp: SignedCheckpoint): Promise<number> {
      return inTenant(pool, cp.orgId, async (db) => {
        const { rows } = await db.query<{ deleted: string }>(
          'SELECT apply_retention($1, $2, $3, $4, $5, $6, $7)::text AS deleted',
          [
            cp.orgId,
            cp.seq.toString(),
            cp.headHash,
            cp.signedAt,
            cp.keyId,
            cp.statement,
            cp.signature,
          ],
        );
        return Number(rows[0]?.deleted ?? 0);
      });
    },
  };
}

/** The retention repository. */
export type RetentionRepo = ReturnType<typeof createRetentionRepo>;
