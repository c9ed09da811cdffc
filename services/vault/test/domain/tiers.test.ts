import assert from 'node:assert/strict';
import {
  cacheBoundsFor,
  configProblem,
  defaultConfig,
  needsNewEpoch,
  schemeFor,
} from '../../src/domain/tiers.js';

const ALLOWED = ['http://127.0.0.1:4566'];
const ARN = 'arn:aws:kms:us-east-1:222222222222:key/4f1c6a8e-1b2c-4d3e-8f90-0a1b2c3d4e5f';
const base = { tier: 'bank' as const, kms_key_id: ARN, kms_endpoint: '', rotation_days: 90 };

describe('tiers', () => {
  const problems = [
    { name: 'a Bank org on its customer key', c: base, field: undefined },
    {
      name: 'a Zero Trust org at an allowed endpoint',
      c: { ...base, tier: 'zero_trust' as const, kms_endpoint: ALLOWED[0] ?? '' },
      field: undefined,
    },
    {
      name: 'a SOHO org on the service key',
      c: { ...base, tier: 'soho' as const, kms_key_id: '' },
      field: undefined,
    },
    {
      name: 'a SOHO org naming a key',
      c: { ...base, tier: 'soho' as const },
      field: 'config.kms_key_id',
    },
    {
      name: 'a Bank org without a key',
      c: { ...base, kms_key_id: '' },
      field: 'config.kms_key_id',
    },
    {
      name: 'a key id with spaces',
      c: { ...base, kms_key_id: 'key one' },
      field: 'config.kms_key_id',
    },
    {
      name: 'an endpoint not allowed',
      c: { ...base, kms_endpoint: 'http://169.254.169.254' },
      field: 'config.kms_endpoint',
    },
    {
      name: 'a rotation of 0 days',
      c: { ...base, rotation_days: 0 },
      field: 'config.rotation_days',
    },
    {
      name: 'a rotation of 366 days',
      c: { ...base, rotation_days: 366 },
      field: 'config.rotation_days',
    },
  ];
  for (const p of problems) {
    it(`judges ${p.name}`, () => {
      assert.equal(configProblem(p.c, ALLOWED)?.field, p.field);
    });
  }

  it('never caches a Zero Trust key; caches Bank keys for the Bank bound', () => {
    const bounds = {
      soho: { maxAgeMs: 300_000, maxUses: 10 },
      bank: { maxAgeMs: 60_000, maxUses: 10 },
    };
    assert.equal(cacheBoundsFor('zero_trust', bounds), undefined);
    assert.equal(cacheBoundsFor('bank', bounds), bounds.bank);
    assert.equal(cacheBoundsFor('soho', bounds), bounds.soho);
  });

  it('mints p256 epochs only for Zero Trust', () => {
    assert.deepEqual((['soho', 'bank', 'zero_trust'] as const).map(schemeFor), [
      'aes',
      'aes',
      'p256',
    ]);
  });

  it('needs a new epoch for a new tier, key or endpoint, not for a new rotation period', () => {
    const from = { ...defaultConfig('org_a', 90) };
    assert.equal(needsNewEpoch(from, { ...from, rotation_days: 30 }), false);
    assert.equal(needsNewEpoch(from, { ...from, grant_id: 'g' }), false);
    assert.equal(needsNewEpoch(from, { ...from, tier: 'bank', kms_key_id: ARN }), true);
    assert.equal(needsNewEpoch(from, { ...from, kms_endpoint: ALLOWED[0] ?? '' }), true);
  });
});
