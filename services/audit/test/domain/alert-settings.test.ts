import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@fortress/kit/errors';
import {
  alertSettingsOf,
  anomalyParams,
  wantsEmail,
  type AnomalyInput,
} from '../../src/domain/alert-settings.js';

const anomaly = (a: Partial<AnomalyInput> = {}): AnomalyInput => ({
  disabled: false,
  stddevMultiplier: 0,
  minRequests: 0,
  minDenies: 0,
  ...a,
});

describe('alert settings (validation)', () => {
  it('keeps addresses once each, in order, and sorts types', () => {
    const s = alertSettingsOf('org_a', {
      recipients: [' Ops@Example.com', 'ops@example.com', 'cfo@example.co.uk'],
      types: ['user.overage', 'credential.expiring', 'user.overage'],
    });
    assert.deepEqual(s.recipients, ['Ops@Example.com', 'cfo@example.co.uk']);
    assert.deepEqual(s.types, ['credential.expiring', 'user.overage']);
    assert.deepEqual(anomalyParams(s.anomaly), {
      disabled: false,
      k: 4,
      minRequests: 50,
      minDenies: 20,
    });
  });

  const bad: Array<{ name: string; field: string; input: Parameters<typeof alertSettingsOf>[1] }> =
    [
      {
        name: 'not an address',
        field: 'email_recipients',
        input: { recipients: ['ops'], types: [] },
      },
      {
        name: 'a display name with the address',
        field: 'email_recipients',
        input: { recipients: ['Ops <ops@example.com>'], types: [] },
      },
      {
        name: 'two addresses in one',
        field: 'email_recipients',
        input: { recipients: ['a@example.com,b@example.com'], types: [] },
      },
      {
        name: 'too many addresses',
        field: 'email_recipients',
        input: { recipients: Array.from({ length: 21 }, (_, i) => `u${i}@example.com`), types: [] },
      },
      {
        name: 'a type that is not an alert',
        field: 'email_types',
        input: { recipients: [], types: ['request.denied'] },
      },
      {
        name: 'a multiplier below 1',
        field: 'anomaly.stddev_multiplier',
        input: { recipients: [], types: [], anomaly: anomaly({ stddevMultiplier: 0.5 }) },
      },
      {
        name: 'a multiplier that is not a number',
        field: 'anomaly.stddev_multiplier',
        input: { recipients: [], types: [], anomaly: anomaly({ stddevMultiplier: NaN }) },
      },
      {
        name: 'a huge floor',
        field: 'anomaly.min_requests',
        input: { recipients: [], types: [], anomaly: anomaly({ minRequests: 2_000_000 }) },
      },
    ];
  for (const c of bad)
    it(`refuses ${c.name}, naming ${c.field}`, () => {
      assert.throws(
        () => alertSettingsOf('org_a', c.input),
        (err: unknown) => err instanceof InvalidArgumentError && err.field === c.field,
      );
    });

  it('emails a type only with recipients, and only a chosen type when any are chosen', () => {
    const base = alertSettingsOf('org_a', { recipients: [], types: [] });
    assert.equal(wantsEmail(base, 'user.overage'), false);
    const all = { ...base, recipients: ['a@example.com'] };
    assert.equal(wantsEmail(all, 'user.overage'), true);
    const some = { ...all, types: ['credential.expiring' as const] };
    assert.equal(wantsEmail(some, 'user.overage'), false);
    assert.equal(wantsEmail(some, 'credential.expiring'), true);
  });
});
