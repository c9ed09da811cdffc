import assert from 'node:assert/strict';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { eventually } from '@fortress/harness/eventually';
import { envelope } from '@fortress/kit/event-bus';
import { AlertState } from '@fortress/proto/audit/v1/alert_pb';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { createActivityRepo } from '../../src/adapters/pg/activity-repo.js';
import { createAlertSettingsRepo } from '../../src/adapters/pg/alert-settings-repo.js';
import { createChainWriter } from '../../src/adapters/pg/chain-writer.js';
import { createAnomalyJob } from '../../src/alerts/anomaly-job.js';
import { toAuditRow, type AuditRow } from '../../src/domain/audit-row.js';
import { nameUuid } from '../../src/domain/name-uuid.js';
import { startAlertWorld, type AlertWorld } from '../support/alert-world.js';

const ORG = 'org_anomaly';
const HOUR_MS = 3600_000;
/** The clock of every job in this file: 35 minutes into an hour. */
const NOW = new Date('2026-11-22T14:35:00Z');
const CURRENT = new Date('2026-11-22T14:00:00Z');

/** A decision of `subjectId` at `at`. */
function decision(subjectId: string, at: Date, deny = false): AuditRow {
  return toAuditRow(
    envelope({
      orgId: ORG,
      occurredAt: timestampFromDate(at),
      source: 'edge',
      payload: {
        case: 'decision',
        value: {
          requestId: `req_${subjectId}_${at.getTime()}`,
          product: Product.PAT,
          actor: { kind: PrincipalKind.USER, subjectId, userId: subjectId },
          action: 'pat:messages.create',
          resource: 'model:claude-haiku-4-5',
          decision: deny ? Decision.DENY : Decision.ALLOW,
        },
      },
    }),
  );
}

/** `n` decisions spread over the hour starting at `hour`; the first `denies` of them denied. */
const hourOf = (subjectId: string, hour: Date, n: number, denies = 0) =>
  Array.from({ length: n }, (_, i) =>
    decision(subjectId, new Date(hour.getTime() + Math.floor((i * HOUR_MS) / (n + 1))), i < denies),
  );

/** A week of 10–14 requests every hour (mean 12), as most users have. */
const usualWeek = (subjectId: string) =>
  Array.from({ length: 168 }, (_, h) =>
    hourOf(subjectId, new Date(CURRENT.getTime() - (h + 1) * HOUR_MS), 10 + (h % 5)),
  ).flat();

describe('anomaly detection', function () {
  this.timeout(180_000);
  let world: AlertWorld;
  let seeded: number;

  const append = async (rows: AuditRow[]) => {
    const writer = createChainWriter(world.pool);
    for (let i = 0; i < rows.length; i += 1000) await writer.append(ORG, rows.slice(i, i + 1000));
  };

  before(async () => {
    world = await startAlertWorld({ now: () => NOW });
    await world.client.setAlertSettings({
      orgId: ORG,
      emailRecipients: ['soc@example.com'],
      actorId: 'admin_1',
    });
    const rows = [
      ...usualWeek('usr_steady'),
      ...hourOf('usr_steady', CURRENT, 14),
      ...usualWeek('usr_burst'),
      ...hourOf('usr_burst', CURRENT, 240),
      ...usualWeek('usr_denied'),
      ...hourOf('usr_denied', CURRENT, 40, 30),
      // A user seen for the first time, with a small burst.
      ...hourOf('usr_new', CURRENT, 5),
    ];
    await append(rows);
    seeded = rows.length;
  });
  after(() => world?.stop());

  const anomalies = async () =>
    (
      await world.pg.admin.query<{ subject_id: string; event_id: string; published: boolean }>(
        `SELECT subject_id, event_id::text, published_at IS NOT NULL AS published
         FROM audit.anomalies WHERE org_id = $1 ORDER BY subject_id`,
        [ORG],
      )
    ).rows;

  it('flags the burst and the deny burst against each user’s own week, and no one else', async () => {
    // Two replicas at once: the roll-up counts every decision once, each anomaly is found once.
    const replica = createAnomalyJob({
      activity: createActivityRepo(world.pool),
      settings: createAlertSettingsRepo(world.pool),
      publish: (env) => world.bus.publish(env, 5000),
      intervalMs: 3_600_000,
      batch: 700,
      logger: world.logger,
      now: () => NOW,
    });
    await Promise.all([world.runtime.detectAnomalies(), replica.run()]);
    const { rows: totals } = await world.pg.admin.query<{ n: number }>(
      'SELECT sum(requests)::int AS n FROM audit.activity_hours WHERE org_id = $1',
      [ORG],
    );
    assert.deepEqual(totals, [{ n: seeded }]);
    const found = await anomalies();
    assert.deepEqual(
      found.map((a) => [a.subject_id, a.event_id, a.published]),
      ['usr_burst', 'usr_denied'].map((s) => [
        s,
        nameUuid('anomaly.detected', ORG, s, CURRENT.toISOString()),
        true,
      ]),
    );

    // Each reaches the stream as anomaly.detected, and from there the org's recipients.
    const mails = await eventually(() => {
      const got = world.smtp.messages.filter(
        (m) => m.headers['x-fortress-alert'] === 'anomaly.detected',
      );
      return got.length >= 2 ? got : undefined;
    }, 'both anomaly emails');
    const bySubject = new Map(mails.map((m) => [m.subject, m]));
    const burst = bySubject.get(
      '[Fortress] Unusual activity: usr_burst made 240 requests in an hour',
    );
    assert.ok(burst, [...bySubject.keys()].join('\n'));
    assert.deepEqual(burst.to, ['soc@example.com']);
    assert.ok(
      burst.text.includes(
        'usr_burst made 240 requests in the hour from 2026-11-22 14:00 UTC; their hourly mean ' +
          'is 12 (σ 1.4) over the previous 7 days, and more than 17.6 (mean + 4σ) and at ' +
          'least 50 requests in an hour is flagged.',
      ),
      burst.text,
    );
    const denied = bySubject.get(
      '[Fortress] Unusual activity: usr_denied had 30 requests denied in an hour',
    );
    assert.ok(denied, [...bySubject.keys()].join('\n'));
    assert.ok(
      denied.text.includes(
        'usr_denied had 30 requests denied in the hour from 2026-11-22 14:00 UTC; their hourly ' +
          'mean is 0 (σ 0) over the previous 7 days',
      ),
      denied.text,
    );
    const { alerts } = await world.client.listAlerts({ orgId: ORG, type: 'anomaly.detected' });
    assert.deepEqual(alerts.map((a) => a.eventId).sort(), found.map((a) => a.event_id).sort());
    await eventually(
      async () =>
        (await world.client.listAlerts({ orgId: ORG })).alerts.every(
          (a) => a.state === AlertState.SENT,
        ) || undefined,
      'the anomaly emails sent',
    );
  });

  it('reports a user and hour once, however often it runs and however the burst grows', async () => {
    await append(hourOf('usr_burst', new Date(CURRENT.getTime() + 40 * 60_000), 100));
    assert.equal(await world.runtime.detectAnomalies(), 0);
    assert.equal(await world.runtime.detectAnomalies(), 0);
    assert.equal((await anomalies()).length, 2);
    const { alerts } = await world.client.listAlerts({ orgId: ORG, type: 'anomaly.detected' });
    assert.equal(alerts.length, 2);
  });

  it('finds nothing in an org that turned detection off', async () => {
    await world.client.setAlertSettings({
      orgId: ORG,
      emailRecipients: ['soc@example.com'],
      anomaly: { disabled: true },
      actorId: 'admin_1',
    });
    await append(hourOf('usr_new', CURRENT, 400));
    assert.equal(await world.runtime.detectAnomalies(), 0);
    assert.deepEqual(
      (await anomalies()).map((a) => a.subject_id),
      ['usr_burst', 'usr_denied'],
    );
  });
});
