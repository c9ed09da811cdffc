import assert from 'node:assert/strict';
import {
  isCriticalKind,
  parkedKindOf,
  secretFieldOf,
  type CriticalKind,
} from '../../src/admin/approval-kinds.js';

const facts = (critical: CriticalKind[], customNow: string[] = []) => ({
  critical,
  hasCustomRedaction: (key: string) => Promise.resolve(customNow.includes(key)),
});

describe('parkedKindOf', () => {
  const cases: Array<{
    name: string;
    key: string;
    params?: string[];
    body?: unknown;
    critical: CriticalKind[];
    customNow?: string[];
    want: string | undefined;
  }> = [
    {
      name: 'a revoke the org marks critical',
      key: 'DELETE /pat-keys/{id}',
      params: ['pat_1'],
      critical: ['pat_key.revoke'],
      want: 'pat_key.revoke',
    },
    {
      name: 'a revoke in an org that marks only other kinds',
      key: 'DELETE /pat-keys/{id}',
      params: ['pat_1'],
      critical: ['idp.change', 'role.delete'],
      want: undefined,
    },
    {
      name: 'an unrelated route',
      key: 'PUT /pat-keys/{id}',
      params: ['pat_1'],
      critical: ['pat_key.revoke'],
      want: undefined,
    },
    {
      name: 'creating a role under role.change',
      key: 'POST /roles',
      body: { name: 'r' },
      critical: ['role.change'],
      want: 'role.change',
    },
    {
      name: 'a redaction profile that adds custom patterns',
      key: 'PUT /redaction/{role}/{connector}',
      params: ['support', 'zendesk'],
      body: { custom: [{ id: 'a', pattern: 'x', mask: '*' }] },
      critical: ['redaction.custom_patterns'],
      want: 'redaction.custom_patterns',
    },
    {
      name: 'a redaction profile that removes the custom patterns it has now',
      key: 'PUT /redaction/{role}/{connector}',
      params: ['support', 'zendesk'],
      body: { kinds: ['REDACTION_KIND_EMAIL'] },
      critical: ['redaction.custom_patterns'],
      customNow: ['support/zendesk'],
      want: 'redaction.custom_patterns',
    },
    {
      name: 'a redaction profile with no custom patterns before or after',
      key: 'PUT /redaction/{role}/{connector}',
      params: ['support', 'zendesk'],
      body: { kinds: ['REDACTION_KIND_EMAIL'] },
      critical: ['redaction.custom_patterns'],
      customNow: ['support/slack'],
      want: undefined,
    },
    {
      name: 'turning audit export off',
      key: 'PUT /audit/export-settings',
      body: { enabled: false },
      critical: ['audit_export.disable'],
      want: 'audit_export.disable',
    },
    {
      name: 'turning audit export on',
      key: 'PUT /audit/export-settings',
      body: { enabled: true },
      critical: ['audit_export.disable'],
      want: undefined,
    },
    {
      name: 'an export setting that is not plainly on (the route refuses it before parking)',
      key: 'PUT /audit/export-settings',
      body: { enabled: 'true' },
      critical: ['audit_export.disable'],
      want: 'audit_export.disable',
    },
    {
      name: 'turning audit export off in an org that does not mark it critical',
      key: 'PUT /audit/export-settings',
      body: { enabled: false },
      critical: ['pat_key.revoke', 'redaction.custom_patterns'],
      want: undefined,
    },
    {
      name: 'a policy that drops a kind',
      key: 'PUT /approval-policy',
      body: { critical: ['idp.change'] },
      critical: ['idp.change', 'pat_key.revoke'],
      want: 'approval_policy.relax',
    },
    {
      name: 'a policy that adds kinds',
      key: 'PUT /approval-policy',
      body: { critical: ['pat_key.revoke', 'idp.change'] },
      critical: ['pat_key.revoke'],
      want: undefined,
    },
    {
      name: 'a malformed policy body while one kind is critical (it drops that kind)',
      key: 'PUT /approval-policy',
      body: { critical: 'pat_key.revoke' },
      critical: ['pat_key.revoke'],
      want: 'approval_policy.relax',
    },
  ];
  for (const c of cases)
    it(`answers ${String(c.want)} for ${c.name}`, async () => {
      const got = await parkedKindOf(c.key, c.params ?? [], c.body, facts(c.critical, c.customNow));
      assert.equal(got, c.want);
    });
});

describe('secretFieldOf', () => {
  const cases: Array<{ name: string; body: unknown; want: string | undefined }> = [
    { name: 'no body', body: undefined, want: undefined },
    {
      name: 'an IdP config',
      body: { issuer: 'https://i', audiences: ['a'], jwks_uri: 'https://k' },
      want: undefined,
    },
    { name: 'a client secret', body: { client_secret: 'x' }, want: 'client_secret' },
    { name: 'a camelCase key', body: { anthropicKey: 'x' }, want: 'anthropicKey' },
    {
      name: 'nested credential material',
      body: { credential: null, config: { material: { secret: 'x' } } },
      want: 'config.material',
    },
    {
      name: 'a key under an innocent name',
      body: { label: 'x', notes: ['ok', 'sk-ant-api03-abc'] },
      want: 'notes[1]',
    },
    { name: 'an empty secret field', body: { password: '' }, want: undefined },
    {
      name: 'a PEM private key',
      body: { pem: '-----BEGIN RSA PRIVATE KEY-----\nMII' },
      want: 'pem',
    },
  ];
  for (const c of cases)
    it(`finds ${String(c.want)} in ${c.name}, never the value`, () => {
      assert.equal(secretFieldOf(c.body), c.want);
    });
});

describe('isCriticalKind', () => {
  it('knows the closed set and nothing else', () => {
    assert.ok(isCriticalKind('pat_key.revoke'));
    assert.ok(!isCriticalKind('approval_policy.relax'), 'relaxing is implicit, not settable');
    assert.ok(!isCriticalKind('toString'));
  });
});
