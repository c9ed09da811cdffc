import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import type { AlertSettings } from '../../domain/alert-settings.js';
import type { AlertType } from '../../domain/alert-types.js';
import { appendInTenant } from './chain-writer.js';

interface Row {
  org_id: string;
  email_recipients: string[];
  email_types: string[];
  anomaly_disabled: boolean;
  anomaly_k: number | null;
  anomaly_min_requests: number | null;
  anomaly_min_denies: number | null;
  updated_at: Date;
}

const COLUMNS = `org_id, email_recipients, email_types, anomaly_disabled, anomaly_k,
  anomaly_min_requests, anomaly_min_denies, updated_at`;

const toSettings = (r: Row): AlertSettings => ({
  orgId: r.org_id,
  recipients: r.email_recipients,
  types: r.email_types as AlertType[],
  anomaly: {
    disabled: r.anomaly_disabled,
    ...(r.anomaly_k === null ? {} : { k: r.anomaly_k }),
    ...(r.anomaly_min_requests === null ? {} : { minRequests: r.anomaly_min_requests }),
    ...(r.anomaly_min_denies === null ? {} : { minDenies: r.anomaly_min_denies }),
  },
  updatedAt: r.updated_at,
});

/** The change-log row of a settings change, from the settings before and after it. */
export type SettingsChange = (before: AlertSettings | undefined, after: AlertSettings) => AuditRow;

/**
 * Alert settings in PostgreSQL, one row per org that set any. A change appends its
 * change-log row to the org's chain in the same transaction.
 */
export function createAlertSettingsRepo(pool: pg.Pool, now: () => Date = () => new Date()) {
  return {
    /** The org's settings; undefined when it never set any. */
    async get(orgId: string): Promise<AlertSettings | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Row>(
          `SELECT ${COLUMNS} FROM alert_settings WHERE org_id = $1`,
          [orgId],
        );
        return rows[0] && toSettings(rows[0]);
      });
    },

    /** Replaces the org's settings. */
    async set(s: AlertSettings, change: SettingsChange): Promise<AlertSettings> {
      return inTenant(pool, s.orgId, async (db) => {
        const { rows: before } = await db.query<Row>(
          `SELECT ${COLUMNS} FROM alert_settings WHERE org_id = $1 FOR UPDATE`,
          [s.orgId],
        );
        const { rows } = await db.query<Row>(
          `INSERT INTO alert_settings (org_id, email_recipients, email_types, anomaly_disabled,
             anomaly_k, anomaly_min_requests, anomaly_min_denies)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (org_id) DO UPDATE SET email_recipients = EXCLUDED.email_recipients,
             email_types = EXCLUDED.email_types, anomaly_disabled = EXCLUDED.anomaly_disabled,
             anomaly_k = EXCLUDED.anomaly_k, anomaly_min_requests = EXCLUDED.anomaly_min_requests,
             anomaly_min_denies = EXCLUDED.anomaly_min_denies, updated_at = now()
           RETURNING ${COLUMNS}`,
          [
            s.orgId,
            s.recipients,
            s.types,
            s.anomaly.disabled,
            s.anomaly.k ?? null,
            s.anomaly.minRequests ?? null,
            s.anomaly.minDenies ?? null,
          ],
        );
        const after = toSettings(rows[0] as Row);
        await appendInTenant(
          db,
          s.orgId,
          [change(before[0] && toSettings(before[0]), after)],
          now(),
        );
        return after;
      });
    },
  };
}

/** The alert settings repository. */
export type AlertSettingsRepo = ReturnType<typeof createAlertSettingsRepo>;
