import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalSchema, Tier, type Principal } from '@fortress/proto/common/v1/common_pb';
import { PostureStatus } from '@fortress/proto/posture/v1/posture_pb';
import type { DeviceVerdict } from '../../src/adapters/pg/device-store.js';
import { checkPosture, type VerdictSource } from '../../src/domain/check-posture.js';

/** An in-memory verdict source keyed by org and device, recording what it was asked. */
function memorySource(verdicts: Record<string, DeviceVerdict> = {}) {
  const source = {
    asked: [] as Array<[string, string]>,
    validVerdict(orgId: string, deviceId: string): Promise<DeviceVerdict | undefined> {
      source.asked.push([orgId, deviceId]);
      return Promise.resolve(verdicts[`${orgId}/${deviceId}`]);
    },
  } satisfies VerdictSource & { asked: unknown[] };
  return source;
}

const principal = (tier: Tier, deviceId = ''): Principal =>
  create(PrincipalSchema, { orgId: 'org_z1', tier, subjectId: 'usr_1', deviceId });

const verdict = (compliant: boolean, reason: string | null = null): DeviceVerdict => ({
  compliant,
  reason,
  lastCheckedAt: new Date('2026-11-22T10:00:00Z'),
  validUntil: new Date('2026-11-22T10:15:00Z'),
});

describe('checkPosture', () => {
  const notRequired = [
    { name: 'SOHO', tier: Tier.SOHO },
    { name: 'Bank', tier: Tier.BANK },
  ];
  for (const c of notRequired) {
    it(`answers NOT_REQUIRED for ${c.name} without asking the verdict source`, async () => {
      const source = memorySource();
      const result = await checkPosture(source, principal(c.tier, 'dev_1'));
      assert.equal(result.status, PostureStatus.NOT_REQUIRED);
      assert.equal(result.code, 'not_required');
      assert.deepEqual(source.asked, []);
    });
  }

  it('answers NONCOMPLIANT unknown_tier for a principal without a tier, without asking the source', async () => {
    const source = memorySource({ 'org_z1/dev_1': verdict(true) });
    const result = await checkPosture(source, principal(Tier.UNSPECIFIED, 'dev_1'));
    assert.equal(result.status, PostureStatus.NONCOMPLIANT);
    assert.equal(result.code, 'unknown_tier');
    assert.deepEqual(source.asked, []);
  });

  it('answers NONCOMPLIANT no_device_evidence for Zero Trust without a device id', async () => {
    const source = memorySource();
    const result = await checkPosture(source, principal(Tier.ZERO_TRUST));
    assert.equal(result.status, PostureStatus.NONCOMPLIANT);
    assert.equal(result.code, 'no_device_evidence');
    assert.deepEqual(source.asked, []);
  });

  it('answers NONCOMPLIANT device_unverified, quoting the device, when no verdict is cached', async () => {
    const source = memorySource({ 'org_other/dev_1': verdict(true) });
    const result = await checkPosture(source, principal(Tier.ZERO_TRUST, 'dev_1'));
    assert.equal(result.status, PostureStatus.NONCOMPLIANT);
    assert.equal(result.code, 'device_unverified');
    assert.match(result.message, /device "dev_1"/);
    assert.equal(result.verdict, undefined);
    assert.deepEqual(source.asked, [['org_z1', 'dev_1']]);
  });

  it('answers COMPLIANT with the verdict when the device is compliant', async () => {
    const v = verdict(true);
    const result = await checkPosture(
      memorySource({ 'org_z1/dev_1': v }),
      principal(Tier.ZERO_TRUST, 'dev_1'),
    );
    assert.equal(result.status, PostureStatus.COMPLIANT);
    assert.equal(result.code, 'compliant');
    assert.equal(result.verdict, v);
  });

  const noncompliant = [
    { name: 'with the MDM reason', reason: 'disk not encrypted', message: /disk not encrypted/ },
    { name: 'without a reason', reason: null, message: /noncompliant/ },
  ];
  for (const c of noncompliant) {
    it(`answers NONCOMPLIANT device_noncompliant ${c.name}`, async () => {
      const v = verdict(false, c.reason);
      const result = await checkPosture(
        memorySource({ 'org_z1/dev_1': v }),
        principal(Tier.ZERO_TRUST, 'dev_1'),
      );
      assert.equal(result.status, PostureStatus.NONCOMPLIANT);
      assert.equal(result.code, 'device_noncompliant');
      assert.match(result.message, c.message);
      assert.equal(result.verdict, v);
    });
  }
});
