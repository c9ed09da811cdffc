import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { PrincipalKind, PrincipalSchema, Tier } from '@fortress/proto/common/v1/common_pb';
import { SESSION_CREDENTIAL_REF } from '@fortress/kit/decision-token';
import { decideSession } from '../../src/domain/session-decision.js';

describe('decideSession', () => {
  const user = {
    orgId: 'org_zt',
    tier: Tier.ZERO_TRUST,
    kind: PrincipalKind.USER,
    subjectId: 'usr_1',
    deviceId: 'dev_1',
  };
  const cases = [
    {
      name: 'a SOHO org',
      principal: { ...user, tier: Tier.SOHO },
      compliant: true,
      code: 'session_not_applicable',
    },
    {
      name: 'a Bank org',
      principal: { ...user, tier: Tier.BANK },
      compliant: true,
      code: 'session_not_applicable',
    },
    {
      name: 'an org key without a user',
      principal: { ...user, kind: PrincipalKind.ORG_KEY },
      compliant: true,
      code: 'identity_required',
    },
    {
      name: 'no subject',
      principal: { ...user, subjectId: '' },
      compliant: true,
      code: 'identity_required',
    },
    {
      name: 'no device',
      principal: { ...user, deviceId: '' },
      compliant: true,
      code: 'device_noncompliant',
    },
    {
      name: 'a device not found compliant',
      principal: user,
      compliant: false,
      code: 'device_noncompliant',
    },
    {
      name: 'a verified user on a compliant device',
      principal: user,
      compliant: true,
      code: 'allowed',
    },
  ];
  for (const c of cases) {
    it(`answers ${c.code} for ${c.name}`, () => {
      const verdict = decideSession(create(PrincipalSchema, c.principal), c.compliant);
      assert.equal(verdict.reasons[0]?.code, c.code);
      assert.equal(verdict.allow, c.code === 'allowed');
      assert.equal(verdict.credentialRef, c.code === 'allowed' ? SESSION_CREDENTIAL_REF : '');
    });
  }
});
