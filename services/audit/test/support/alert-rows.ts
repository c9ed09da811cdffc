import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { createActivityRepo } from '../../src/adapters/pg/activity-repo.js';
import { createAlertEmailRepo } from '../../src/adapters/pg/alert-email-repo.js';
import { createAlertSettingsRepo } from '../../src/adapters/pg/alert-settings-repo.js';
import type { AuditRow } from '../../src/domain/audit-row.js';

/**
 * Alert settings, an alert email, an anomaly and the roll-up of the org's decisions (it must
 * have some in its log) of `orgId`, written as the service writes them.
 */
export async function seedAlertRows(
  pool: pg.Pool,
  orgId: string,
  change: () => AuditRow,
): Promise<void> {
  await createAlertSettingsRepo(pool).set(
    { orgId, recipients: ['ops@example.com'], types: [], anomaly: { disabled: false } },
    change,
  );
  const eventId = randomUUID();
  await createAlertEmailRepo(pool).accept(orgId, {
    alertId: eventId,
    eventId,
    type: 'user.overage',
    recipients: ['ops@example.com'],
    subject: 'subject',
    body: 'body',
  });
  const activity = createActivityRepo(pool);
  if ((await activity.rollUp(orgId, new Date(0), 1000)) === 0)
    throw new Error(`no decisions of ${orgId} to roll up`);
  await activity.record(orgId, [
    { subjectId: 'key_1', hour: new Date('2026-11-22T12:00:00Z'), eventId, data: {} },
  ]);
}
