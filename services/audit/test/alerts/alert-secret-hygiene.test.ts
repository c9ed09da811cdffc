import assert from 'node:assert/strict';
import type { JsonObject } from '@bufbuild/protobuf';
import { AlertState, type Alert } from '@fortress/proto/audit/v1/alert_pb';
import {
  SMTP_PASSWORD,
  SMTP_USER,
  startAlertWorld,
  type AlertWorld,
} from '../support/alert-world.js';
import { redisText } from '../support/redis-text.js';

const ORG = 'org_alerthygiene';
/** A secret planted in notification data, where no known field would show it. */
const CANARY = 'sk-ant-api03-alert-canary-5b1e0c7d9a2f4e68';

/** Every form the relay password or the canary could leak in (SMTP AUTH sends base64). */
const canaries = [
  CANARY,
  SMTP_PASSWORD,
  Buffer.from(SMTP_PASSWORD).toString('base64'),
  Buffer.from(`\0${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64'),
  Buffer.from(`${SMTP_USER}\0${SMTP_PASSWORD}`).toString('base64'),
];

const planted: JsonObject = { apiKey: CANARY, secret: CANARY, nested: { token: CANARY } };

describe('alert emails keep secrets out', function () {
  this.timeout(120_000);
  let world: AlertWorld;

  before(async () => {
    world = await startAlertWorld();
    await world.client.setAlertSettings({
      orgId: ORG,
      emailRecipients: ['ops@example.com'],
      actorId: 'admin_1',
    });
  });
  after(() => world?.stop());

  const alertWhen = (eventId: string, done: (a: Alert) => boolean) =>
    world.alertWhen(ORG, eventId, done);

  it('puts neither the relay password nor a planted secret in any email, log line, table or Redis value', async () => {
    const sent: string[] = [];
    for (const [type, data] of Object.entries<JsonObject>({
      'pat.spend_threshold_reached': { patKeyId: 'pat_1', thresholdPercent: '80' },
      'pat.spend_cap_reached': { ruleId: 'pat/pat_1/spend', subjectId: 'key_1' },
      'user.overage': { subjectId: 'usr_1', ruleId: 'rule/r1' },
      'credential.expiring': { credential_id: 'cred_1', label: 'Zendesk', version: 1 },
      'anomaly.detected': { subjectId: 'usr_1', requests: 400, explanation: 'usr_1 made 400' },
    }))
      sent.push(await world.notify(ORG, type, { ...data, ...planted }));
    for (const id of sent) await alertWhen(id, (a) => a.state === AlertState.SENT);

    // The relay refuses the login, then is down: failures are logged and retried.
    world.smtp.refuseAuth = true;
    const refused = await world.notify(ORG, 'user.overage', { subjectId: 'usr_2', ...planted });
    await alertWhen(refused, (a) => a.lastError === 'auth_failed');
    world.smtp.refuseAuth = false;
    await alertWhen(refused, (a) => a.state === AlertState.SENT);
    await world.smtp.stop();
    const down = await world.notify(ORG, 'user.overage', { subjectId: 'usr_3', ...planted });
    await alertWhen(down, (a) => a.lastError === 'connection_refused');
    await world.smtp.start();
    await alertWhen(down, (a) => a.state === AlertState.SENT);

    const tables = await world.pg.admin.query<{ t: string }>(
      `SELECT string_agg(t, E'\\n') AS t FROM (
         SELECT row_to_json(e)::text AS t FROM audit.alert_emails e
         UNION ALL SELECT row_to_json(s)::text FROM audit.alert_settings s
         UNION ALL SELECT row_to_json(a)::text FROM audit.anomalies a) x`,
    );
    const places = {
      emails: world.smtp.messages.map((m) => m.raw).join('\n'),
      logs: world.logs.join('\n'),
      tables: tables.rows[0]?.t ?? '',
      redis: await redisText(world.redis.url),
    };
    assert.equal(world.smtp.messages.length, 7);
    assert.ok(places.logs.includes('alert email failed; will retry'), 'the logs were captured');
    assert.ok(places.logs.includes('"error":"auth_failed"'), 'the refused login was logged');
    assert.ok(places.tables.includes('usr_3 exceeded'), 'the tables were read');
    for (const [where, text] of Object.entries(places))
      for (const canary of canaries)
        assert.ok(!text.includes(canary), `${canary} is in the ${where}`);
  });
});
