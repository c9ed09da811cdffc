import assert from 'node:assert/strict';
import { Tier, PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { PostureStatus } from '@fortress/proto/posture/v1/posture_pb';
import { eventually, postMessages, useStack, type TestStack } from './support/stack.js';

describe('tiers: identity and device requirements', () => {
  let stack: TestStack;
  before(async function () {
    this.timeout(120_000);
    stack = await useStack();
  });

  for (const tier of [Tier.BANK, Tier.ZERO_TRUST]) {
    it(`fails closed for a ${Tier[tier]} org whose request carries no verified IdP token, and audits it`, async () => {
      const org = await stack.seed({ tier });
      const upstreamBefore = stack.sandbox.requests.length;
      const keyOnly = await postMessages(stack.edgeUrl, { headers: { 'x-api-key': org.orgKey } });
      assert.equal(keyOnly.status, 401);
      assert.match(keyOnly.json.error?.message ?? '', /identity provider token/);
      const withToken = await postMessages(stack.edgeUrl, {
        headers: { 'x-api-key': org.orgKey, authorization: 'Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig' },
      });
      assert.equal(
        withToken.status,
        401,
        'an IdP token is not trusted until IdP validation is configured',
      );
      assert.equal(stack.sandbox.requests.length, upstreamBefore);
      const rows = await eventually(async () => {
        const r = (await stack.auditRows(org.orgId)).filter((x) => x.kind === 'decision');
        return r.length >= 2 ? r : undefined;
      }, 'both denials audited');
      assert.deepEqual(
        rows.map((r) => r.reasons[0]?.code),
        ['idp_token_required', 'idp_not_configured'],
      );
    });
  }

  const principal = (tier: Tier, deviceId = '') => ({
    orgId: 'org_tiers',
    tier,
    kind: PrincipalKind.USER,
    subjectId: 'usr_1',
    deviceId,
  });

  it('answers NOT_REQUIRED for SOHO and Bank orgs', async () => {
    for (const tier of [Tier.SOHO, Tier.BANK]) {
      const res = await stack.operator.posture.check({ principal: principal(tier) });
      assert.equal(res.status, PostureStatus.NOT_REQUIRED, Tier[tier]);
    }
  });

  it('denies a Zero Trust principal with no device evidence, and one whose device has no verdict', async () => {
    const none = await stack.operator.posture.check({ principal: principal(Tier.ZERO_TRUST) });
    assert.equal(none.status, PostureStatus.NONCOMPLIANT);
    assert.equal(none.reason?.code, 'no_device_evidence');
    const unknown = await stack.operator.posture.check({
      principal: principal(Tier.ZERO_TRUST, 'device-abc123'),
    });
    assert.equal(unknown.status, PostureStatus.NONCOMPLIANT);
    assert.equal(unknown.reason?.code, 'device_unverified');
  });
});
