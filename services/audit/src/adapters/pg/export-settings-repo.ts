import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import { appendInTenant } from './chain-writer.js';

/** An org's export setting as the API shows it; no row means on, by default. */
export interface ExportSettingView {
  enabled: boolean;
  isDefault: boolean;
  updatedAt?: Date;
}

interface Row {
  enabled: boolean;
  updated_at: Date;
}

const view = (r: Row | undefined): ExportSettingView =>
  r ? { enabled: r.enabled, isDefault: false, updatedAt: r.updated_at } : DEFAULT_SETTING;

/** Export is on for an org that never set it. */
export const DEFAULT_SETTING: ExportSettingView = { enabled: true, isDefault: true };

/** The change-log row of a setting change, from the setting before and after it. */
export type ExportSettingChange = (before: ExportSettingView, after: ExportSettingView) => AuditRow;

/**
 * Export settings in PostgreSQL. A change appends its change-log row to the org's chain in the
 * same transaction, and remembers that row's position when it flips the setting: a checkpoint
 * then knows whether export was on at any time during the span it seals.
 */
export function createExportSettingsRepo(pool: pg.Pool, now: () => Date = () => new Date()) {
  return {
    /** The org's setting. */
    async get(orgId: string): Promise<ExportSettingView> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Row>(
          'SELECT enabled, updated_at FROM export_settings WHERE org_id = $1',
          [orgId],
        );
        return view(rows[0]);
      });
    },

    /** Sets the org's setting and records the change; the setting after it. */
    async set(
      orgId: string,
      enabled: boolean,
      change: ExportSettingChange,
    ): Promise<ExportSettingView> {
      return inTenant(pool, orgId, async (db) => {
        const { rows: before } = await db.query<Row>(
          'SELECT enabled, updated_at FROM export_settings WHERE org_id = $1 FOR UPDATE',
          [orgId],
        );
        const was = view(before[0]);
        const appended = await appendInTenant(
          db,
          orgId,
          [change(was, { enabled, isDefault: false })],
          now(),
        );
        const { rows } = await db.query<Row>(
          `INSERT INTO export_settings (org_id, enabled, changed_seq) VALUES ($1, $2, $3)
           ON CONFLICT (org_id) DO UPDATE SET enabled = EXCLUDED.enabled,
             changed_seq = CASE WHEN export_settings.enabled = EXCLUDED.enabled
                                THEN export_settings.changed_seq ELSE EXCLUDED.changed_seq END,
             updated_at = now()
           RETURNING enabled, updated_at`,
          [orgId, enabled, appended.head.seq.toString()],
        );
        return view(rows[0]);
      });
    },
  };
}

/** The export settings repository. */
export type ExportSettingsRepo = ReturnType<typeof createExportSettingsRepo>;
