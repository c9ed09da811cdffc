import assert from 'node:assert/strict';
import type { JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError } from '@connectrpc/connect';
import { eventually } from '@fortress/harness/eventually';
import type { SunkMail } from '@fortress/harness/infra/smtp-sink';
import { AlertState, type Alert } from '@fortress/proto/audit/v1/alert_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { startAlertWorld, type AlertWorld } from '../support/alert-world.js';

const ORG = 'org_alerts';
const ACTOR = 'admin_1';
const RECIPIENTS = ['ops@example.com', 'cfo@example.com'];

describe('alert emails', function () {
  this.timeout(120_000);
  let world: AlertWorld;

  before(async () => {
    world = await startAlertWorld();
    await world.client.setAlertSettings({
      orgId: ORG,
      emailRecipients: RECIPIENTS,
      actorId: ACTOR,
    });
  });
  after(() => world?.stop());

  /** Every email the relay accepted for one alert (its Message-ID names the alert). */
  const mailsOf = (alertId: string): SunkMail[] =>
    world.smtp.messages.filter((m) => m.headers['message-id'] === `<${alertId}@fortress.alerts>`);

  /** The alert (by its id or its event id) once `done` holds for it. */
  const alertWhen = (id: string, done: (a: Alert) => boolean, orgId = ORG) =>
    world.alertWhen(orgId, id, done);

  const publish = async (env: EventEnvelope) => {
    await world.bus.publish(env, 5000);
    return env.eventId;
  };

  const threshold = (patKeyId: string): JsonObject => ({
    patKeyId,
    ruleId: `pat/${patKeyId}/spend`,
    thresholdPercent: '80',
    spendCapMicrousd: '500000000',
  });

  it('emails a spend threshold once to the org’s recipients; redeliveries send nothing more', async () => {
    const env = world.notification(ORG, 'pat.spend_threshold_reached', threshold('pat_9f'));
    const eventId = await publish(env);
    const [mail] = await eventually(() => {
      const got = mailsOf(eventId);
      return got.length ? got : undefined;
    }, 'the email');
    assert.ok(mail);
    assert.deepEqual(mail.to, RECIPIENTS);
    assert.equal(mail.from, 'alerts@fortress.test');
    assert.equal(mail.headers['to'], RECIPIENTS.join(', '));
    assert.equal(
      mail.subject,
      '[Fortress] PAT key pat_9f reached 80% of its monthly spend cap of $500.00',
    );
    assert.equal(mail.headers['auto-submitted'], 'auto-generated');
    assert.equal(mail.headers['x-fortress-alert'], 'pat.spend_threshold_reached');
    for (const line of [
      'Spend of PAT key pat_9f this month (UTC) has passed 80% of its cap ($500.00).',
      `Organization: ${ORG}`,
      `Event id: ${eventId}`,
    ])
      assert.ok(mail.text.split('\n').includes(line), `the body says "${line}"`);
    const sent = await alertWhen(eventId, (a) => a.state === AlertState.SENT);
    assert.deepEqual(
      [sent.eventId, sent.type, sent.recipients, sent.attempts, sent.lastError],
      [eventId, 'pat.spend_threshold_reached', RECIPIENTS, 1, ''],
    );
    assert.ok(sent.sentAt);

    // Published again (JetStream drops it as a duplicate) and delivered again by NATS after its
    // duplicate window (another replica's intake): nothing is enqueued.
    await publish(env);
    assert.equal(await world.redeliver(env), 0);
    // A later alert goes out after anything the redeliveries could have caused.
    const later = await publish(
      world.notification(ORG, 'pat.spend_threshold_reached', threshold('pat_later')),
    );
    await alertWhen(later, (a) => a.state === AlertState.SENT);
    assert.equal(mailsOf(eventId).length, 1);
    assert.equal(mailsOf(later).length, 1);
  });

  it('holds an alert while the relay is down and sends it once when it is back', async () => {
    await world.smtp.stop();
    const expires = new Date(Date.now() + 3 * 24 * 3600_000 + 60_000);
    // As the vault's sweep sends it.
    const env = world.notification(ORG, 'credential.expiring', {
      credential_id: 'cred_acct',
      version: 1,
      label: 'Accounting API',
      kind: 'api_key',
      last_four: 'c0de',
      expires_at: expires.toISOString(),
    });
    const eventId = await publish(env);
    const failing = await alertWhen(eventId, (a) => a.attempts >= 1);
    assert.equal(failing.state, AlertState.PENDING);
    assert.equal(failing.lastError, 'connection_refused');
    // Redelivered while still pending: its job is added again under the same id (a no-op).
    assert.equal(await world.redeliver(env), 1);
    await world.smtp.start();
    const sent = await alertWhen(eventId, (a) => a.state === AlertState.SENT);
    assert.ok(sent.attempts >= 2);
    const mails = mailsOf(eventId);
    assert.equal(mails.length, 1);
    assert.equal(
      mails[0]?.subject,
      '[Fortress] Credential "Accounting API" (cred_acct) expires in 3 days',
    );
    assert.ok(!mails[0]?.text.includes('c0de'), 'no last four in an email');
    assert.equal(await world.redeliver(env), 0);
  });

  it('sends one email per key and day for a spend cap, and per user, rule and hour for an overage', async () => {
    const at = timestampFromDate(new Date());
    const repeat = async (type: string, data: JsonObject, n: number) => {
      const ids: string[] = [];
      for (let i = 0; i < n; i++) {
        const env = world.notification(ORG, type, { ...data, requestId: `req_${i}` });
        env.occurredAt = at;
        ids.push(await publish(env));
      }
      return ids;
    };
    await repeat('pat.spend_cap_reached', { subjectId: 'key_1', ruleId: 'pat/pat_cap/spend' }, 5);
    await repeat('user.overage', { subjectId: 'usr_ann', ruleId: 'rule/burst' }, 5);
    await repeat('user.overage', { subjectId: 'usr_ann', ruleId: 'rule/daily' }, 2);
    // The consumer handles the stream in order: once this one is sent, all the above were seen.
    const last = await publish(
      world.notification(ORG, 'pat.spend_threshold_reached', threshold('pat_marker')),
    );
    await alertWhen(last, (a) => a.state === AlertState.SENT);
    const all = await eventually(async () => {
      const { alerts } = await world.client.listAlerts({ orgId: ORG });
      return alerts.every((a) => a.state === AlertState.SENT) ? alerts : undefined;
    }, 'every alert sent');
    const subjects = (type: string) =>
      all
        .filter((a) => a.type === type)
        .map((a) => a.subject)
        .sort();
    assert.deepEqual(subjects('pat.spend_cap_reached'), [
      '[Fortress] PAT key pat_cap reached its monthly spend cap; its requests are denied',
    ]);
    assert.deepEqual(subjects('user.overage'), [
      '[Fortress] usr_ann exceeded a rate limit (rule/burst)',
      '[Fortress] usr_ann exceeded a rate limit (rule/daily)',
    ]);
    for (const a of all) assert.equal(mailsOf(a.alertId).length, 1, a.subject);
  });

  it('emails only the types an org chose, and nothing for an org without recipients', async () => {
    await world.client.setAlertSettings({
      orgId: 'org_picky',
      emailRecipients: ['sec@example.com'],
      emailTypes: ['credential.expiring'],
      actorId: ACTOR,
    });
    const overage = world.notification('org_picky', 'user.overage', { subjectId: 'usr_b' });
    assert.equal(await world.redeliver(overage), 0);
    const blocked = world.notification('org_picky', 'pat.model_blocked', { model: 'x' });
    assert.equal(await world.redeliver(blocked), 0, 'not an alert type');
    const silent = world.notification('org_silent', 'credential.expiring', {
      credential_id: 'cred_1',
    });
    assert.equal(await world.redeliver(silent), 0);
    const wanted = world.notification('org_picky', 'credential.expiring', {
      credential_id: 'cred_1',
    });
    assert.equal(await world.redeliver(wanted), 1);
    const sent = await alertWhen(wanted.eventId, (a) => a.state === AlertState.SENT, 'org_picky');
    assert.deepEqual(sent.recipients, ['sec@example.com']);
    assert.deepEqual(
      (await world.client.listAlerts({ orgId: 'org_picky' })).alerts.map((a) => a.type),
      ['credential.expiring'],
    );
  });

  it('gives up at once when the relay refuses every recipient for good; sends to the rest when it refuses some', async () => {
    world.smtp.refusedRecipients.add('gone@example.com');
    await world.client.setAlertSettings({
      orgId: 'org_gone',
      emailRecipients: ['gone@example.com'],
      actorId: ACTOR,
    });
    const lost = world.notification('org_gone', 'user.overage', { subjectId: 'usr_c' });
    assert.equal(await world.redeliver(lost), 1);
    const failed = await alertWhen(lost.eventId, (a) => a.state === AlertState.FAILED, 'org_gone');
    assert.deepEqual([failed.attempts, failed.lastError], [1, 'rejected']);
    assert.equal(await world.redeliver(lost), 0, 'a failed alert is not enqueued again');

    await world.client.setAlertSettings({
      orgId: 'org_gone',
      emailRecipients: ['gone@example.com', 'here@example.com'],
      actorId: ACTOR,
    });
    const half = world.notification('org_gone', 'credential.expiring', { credential_id: 'c1' });
    assert.equal(await world.redeliver(half), 1);
    await alertWhen(half.eventId, (a) => a.state === AlertState.SENT, 'org_gone');
    assert.deepEqual(mailsOf(half.eventId)[0]?.to, ['here@example.com']);
    assert.ok(world.logs.some((l) => l.includes('the relay refused some recipients')));
  });

  it('reads and replaces an org’s settings, each change in the change log', async () => {
    const orgId = 'org_settings';
    const fresh = await world.client.getAlertSettings({ orgId });
    assert.deepEqual(
      [fresh.settings?.emailRecipients, fresh.settings?.emailTypes, fresh.settings?.updatedAt],
      [[], [], undefined],
    );
    assert.deepEqual(
      [
        fresh.settings?.anomaly?.disabled,
        fresh.settings?.anomaly?.stddevMultiplier,
        fresh.settings?.anomaly?.minRequests,
        fresh.settings?.anomaly?.minDenies,
      ],
      [false, 4, 50, 20],
    );
    await world.client.setAlertSettings({
      orgId,
      emailRecipients: ['a@example.com'],
      actorId: ACTOR,
    });
    const set = await world.client.setAlertSettings({
      orgId,
      emailRecipients: ['b@example.com', 'a@example.com'],
      emailTypes: ['anomaly.detected'],
      anomaly: { stddevMultiplier: 6, minRequests: 100 },
      actorId: 'admin_2',
    });
    const got = await world.client.getAlertSettings({ orgId });
    assert.deepEqual(got.settings, set.settings);
    assert.deepEqual(got.settings?.emailRecipients, ['b@example.com', 'a@example.com']);
    assert.deepEqual(
      [got.settings?.anomaly?.stddevMultiplier, got.settings?.anomaly?.minRequests],
      [6, 100],
    );
    assert.equal(got.settings?.anomaly?.minDenies, 20, 'unset: the default');
    const { rows } = await world.pg.admin.query<{ action: string; actor: { subjectId: string } }>(
      "SELECT action, actor FROM audit.events WHERE org_id = $1 AND kind = 'change' ORDER BY org_seq",
      [orgId],
    );
    assert.deepEqual(
      rows.map((r) => [r.action, r.actor.subjectId]),
      [
        ['alert_settings.create', ACTOR],
        ['alert_settings.update', 'admin_2'],
      ],
    );
  });

  it('refuses bad settings with InvalidArgument naming the field, and stores nothing', async () => {
    const orgId = 'org_refused';
    const cases = [
      { field: 'email_recipients', req: { emailRecipients: ['not-an-address'] } },
      { field: 'email_types', req: { emailTypes: ['request.denied'] } },
      { field: 'anomaly.stddev_multiplier', req: { anomaly: { stddevMultiplier: 50 } } },
      { field: 'actor_id', req: { actorId: '' } },
      { field: 'org_id', req: { orgId: 'acme' } },
    ];
    for (const c of cases) {
      const err = await world.client.setAlertSettings({ orgId, actorId: ACTOR, ...c.req }).then(
        () => assert.fail(`${c.field}: expected an error`),
        (e: unknown) => e,
      );
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.InvalidArgument, c.field);
      assert.equal(err.metadata.get('fortress-field'), c.field);
    }
    assert.equal((await world.client.getAlertSettings({ orgId })).settings?.updatedAt, undefined);
  });
});
