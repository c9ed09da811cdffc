import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';

/** A cached device verdict that is still valid. */
export interface DeviceVerdict {
  compliant: boolean;
  reason: string | null;
  lastCheckedAt: Date;
  validUntil: Date;
}

/** Posture's PostgreSQL store. */
export function createDeviceStore(pool: pg.Pool) {
  return {
    /** The device's verdict if one is cached and still valid. */
    async validVerdict(orgId: string, deviceId: string): Promise<DeviceVerdict | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{
          compliant: boolean;
          reason: string | null;
          last_checked_at: Date;
          valid_until: Date;
        }>(
          `SELECT compliant, reason, last_checked_at, valid_until FROM devices
           WHERE org_id = $1 AND device_id = $2 AND valid_until > now()`,
          [orgId, deviceId],
        );
        const r = rows[0];
        return (
          r && {
            compliant: r.compliant,
            reason: r.reason,
            lastCheckedAt: r.last_checked_at,
            validUntil: r.valid_until,
          }
        );
      });
    },
  };
}

/** Posture's store. */
export type DeviceStore = ReturnType<typeof createDeviceStore>;
