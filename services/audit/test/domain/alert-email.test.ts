import assert from 'node:assert/strict';
import type { JsonObject } from '@bufbuild/protobuf';
import { alertEmailOf, type AlertNotification } from '../../src/domain/alert-email.js';
import type { AlertType } from '../../src/domain/alert-types.js';

const ORG = 'org_render';
const AT = new Date('2026-11-22T14:03:11Z');
const CANARY = 'sk-ant-canary-0123456789abcdef';

const note = (type: AlertType, data: JsonObject, over: Partial<AlertNotification> = {}) => ({
  orgId: ORG,
  eventId: '0b8e5a7c-3d5e-4f7a-9c1b-2a3b4c5d6e7f',
  type,
  occurredAt: AT,
  data,
  ...over,
});

describe('alert emails (rendering)', () => {
  const cases: Array<{ name: string; n: AlertNotification; subject: string; lines: string[] }> = [
    {
      name: 'a spend threshold',
      n: note('pat.spend_threshold_reached', {
        patKeyId: 'pat_9f',
        ruleId: 'pat/pat_9f/spend',
        thresholdPercent: '80',
        spendCapMicrousd: '500000000',
      }),
      subject: '[Fortress] PAT key pat_9f reached 80% of its monthly spend cap of $500.00',
      lines: ['Spend of PAT key pat_9f this month (UTC) has passed 80% of its cap ($500.00).'],
    },
    {
      name: 'a spend cap reached (the key read from the rule id)',
      n: note('pat.spend_cap_reached', { subjectId: 'key_1', ruleId: 'pat/pat_9f/spend' }),
      subject: '[Fortress] PAT key pat_9f reached its monthly spend cap; its requests are denied',
      lines: ['This alert is sent at most once a day per key (UTC day 2026-11-22).'],
    },
    {
      name: 'an overage',
      n: note('user.overage', { subjectId: 'usr_ann', ruleId: 'rule/burst', requestId: 'r1' }),
      subject: '[Fortress] usr_ann exceeded a rate limit (rule/burst)',
      lines: ['Requests by usr_ann were denied because they exceeded rule/burst.'],
    },
    {
      name: 'a credential expiring, as the vault sends it',
      n: note('credential.expiring', {
        credential_id: 'cred_acct',
        version: 2,
        label: 'Accounting API',
        kind: 'api_key',
        last_four: 'c0de',
        expires_at: '2026-11-25T14:03:11.000Z',
      }),
      subject: '[Fortress] Credential "Accounting API" (cred_acct) expires in 3 days',
      lines: [
        'Credential "Accounting API" (cred_acct), version 2, api key, expires on 2026-11-25 14:03 UTC.',
      ],
    },
    {
      name: 'an anomaly',
      n: note('anomaly.detected', {
        subjectId: 'usr_x',
        requests: 240,
        denies: 0,
        flagged: ['requests'],
        explanation: 'usr_x made 240 requests in the hour from 2026-11-22 14:00 UTC; …',
      }),
      subject: '[Fortress] Unusual activity: usr_x made 240 requests in an hour',
      lines: ['usr_x made 240 requests in the hour from 2026-11-22 14:00 UTC; …'],
    },
  ];
  for (const c of cases)
    it(`says what happened for ${c.name}`, () => {
      const e = alertEmailOf(c.n);
      assert.equal(e.subject, c.subject);
      const lines = e.body.split('\n');
      for (const l of c.lines) assert.ok(lines.includes(l), `body lacks "${l}":\n${e.body}`);
      for (const l of [
        `Organization: ${ORG}`,
        `Alert: ${c.n.type}`,
        'Time: 2026-11-22 14:03 UTC',
        `Event id: ${c.n.eventId}`,
      ])
        assert.ok(lines.includes(l), `body lacks "${l}"`);
    });

  it('uses the event id as alert id, except for alerts sent once per period', () => {
    const threshold = note('pat.spend_threshold_reached', { patKeyId: 'pat_9f' });
    assert.equal(alertEmailOf(threshold).alertId, threshold.eventId);
    const cap = (eventId: string, occurredAt: Date, key = 'pat_9f') =>
      alertEmailOf(
        note('pat.spend_cap_reached', { ruleId: `pat/${key}/spend` }, { eventId, occurredAt }),
      ).alertId;
    const a = cap('6f1d3c52-1111-4aaa-8bbb-000000000001', AT);
    assert.equal(cap('6f1d3c52-1111-4aaa-8bbb-000000000002', new Date('2026-11-22T23:59:59Z')), a);
    assert.notEqual(
      cap('6f1d3c52-1111-4aaa-8bbb-000000000003', new Date('2026-11-23T00:00:00Z')),
      a,
    );
    assert.notEqual(cap('6f1d3c52-1111-4aaa-8bbb-000000000004', AT, 'pat_other'), a);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const over = (ruleId: string, occurredAt: Date) =>
      alertEmailOf(note('user.overage', { subjectId: 'usr_a', ruleId }, { occurredAt })).alertId;
    assert.equal(over('rule/a', AT), over('rule/a', new Date('2026-11-22T14:59:00Z')));
    assert.notEqual(over('rule/a', AT), over('rule/a', new Date('2026-11-22T15:00:00Z')));
    assert.notEqual(over('rule/a', AT), over('rule/b', AT));
  });

  it('shows only the known fields: anything else in the data never reaches the email', () => {
    for (const type of [
      'pat.spend_threshold_reached',
      'pat.spend_cap_reached',
      'user.overage',
      'credential.expiring',
      'anomaly.detected',
    ] as const) {
      const e = alertEmailOf(
        note(type, {
          patKeyId: 'pat_1',
          subjectId: 'usr_1',
          credential_id: 'cred_1',
          secret: CANARY,
          apiKey: CANARY,
          plaintext: CANARY,
          nested: { token: CANARY },
        }),
      );
      assert.ok(!`${e.subject}\n${e.body}`.includes(CANARY), type);
    }
    // The vault's last four characters are metadata, and still not needed in an email.
    const e = alertEmailOf(note('credential.expiring', { credential_id: 'c', last_four: 'c0de' }));
    assert.ok(!e.body.includes('c0de'));
  });

  it('keeps line breaks and control characters out of the subject', () => {
    const e = alertEmailOf(
      note('user.overage', { subjectId: 'usr_a\r\nBcc: victim@example.com', ruleId: 'r\u0007' }),
    );
    assert.doesNotMatch(e.subject, /[\r\n\u0007]/);
    assert.equal(e.subject, '[Fortress] usr_a  Bcc: victim@example.com exceeded a rate limit (r)');
  });
});
