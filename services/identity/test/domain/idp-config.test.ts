import assert from 'node:assert/strict';
import { InvalidArgumentError } from '@fortress/kit/errors';
import {
  DEFAULT_IDP_ALGORITHMS,
  validateIdpConfig,
  type IdpConfigInput,
} from '../../src/domain/idp-config.js';

/** An Entra ID style configuration with nothing optional filled in. */
const base = (overrides: Partial<IdpConfigInput> = {}): IdpConfigInput => ({
  issuer: 'https://login.microsoftonline.com/tenant-1/v2.0',
  audiences: ['api://fortress'],
  jwksUri: 'https://login.microsoftonline.com/tenant-1/discovery/v2.0/keys',
  algorithms: [],
  userIdClaim: '',
  emailClaims: [],
  deviceIdClaim: '',
  attributeClaims: [],
  groupsClaim: '',
  groupRoles: {},
  ...overrides,
});

describe('validateIdpConfig', () => {
  it('fills in the defaults: RS256/ES256/EdDSA, sub, email claims, deviceid', () => {
    const c = validateIdpConfig(base());
    assert.deepEqual(c.algorithms, DEFAULT_IDP_ALGORITHMS);
    assert.deepEqual(c.algorithms, ['RS256', 'ES256', 'EdDSA']);
    assert.equal(c.userIdClaim, 'sub');
    assert.deepEqual(c.emailClaims, ['email', 'preferred_username', 'upn']);
    assert.equal(c.deviceIdClaim, 'deviceid');
    assert.equal(c.groupsClaim, '');
  });

  it('keeps what is set: oid, several audiences, attributes, a group mapping', () => {
    const c = validateIdpConfig(
      base({
        audiences: ['api://fortress', 'c0ffee00-0000-4000-8000-000000000001', 'api://fortress'],
        algorithms: ['PS256', 'ES384'],
        userIdClaim: 'oid',
        attributeClaims: ['department', 'http://schemas.example.com/claims/location'],
        groupsClaim: 'groups',
        groupRoles: { 'g-1': ['approver', 'approver'], ['__proto__']: ['auditor'] },
      }),
    );
    assert.deepEqual(c.audiences, ['api://fortress', 'c0ffee00-0000-4000-8000-000000000001']);
    assert.deepEqual(c.algorithms, ['PS256', 'ES384']);
    assert.equal(c.userIdClaim, 'oid');
    assert.deepEqual(c.groupRoles['g-1'], ['approver']);
    assert.ok(Object.hasOwn(c.groupRoles, '__proto__'), 'a group named __proto__ is a group');
  });

  it('accepts http only for loopback hosts', () => {
    for (const host of ['127.0.0.1:8080', 'localhost:3000', '[::1]:9000', '127.1.2.3']) {
      const c = validateIdpConfig(
        base({ issuer: `http://${host}`, jwksUri: `http://${host}/jwks` }),
      );
      assert.equal(c.issuer, `http://${host}`);
    }
  });

  const refusals: Array<{ name: string; input: Partial<IdpConfigInput>; field: string }> = [
    {
      name: 'an http issuer off loopback',
      input: { issuer: 'http://idp.example.com' },
      field: 'config.issuer',
    },
    {
      name: 'an http jwks_uri on a private address',
      input: { jwksUri: 'http://10.0.0.5/keys' },
      field: 'config.jwks_uri',
    },
    {
      name: 'a jwks_uri whose host only starts with 127',
      input: { jwksUri: 'http://127.0.0.1.evil.example/keys' },
      field: 'config.jwks_uri',
    },
    { name: 'a relative issuer', input: { issuer: 'login.example.com' }, field: 'config.issuer' },
    {
      name: 'an ftp jwks_uri',
      input: { jwksUri: 'ftp://idp.example.com/keys' },
      field: 'config.jwks_uri',
    },
    {
      name: 'a jwks_uri with credentials',
      input: { jwksUri: 'https://u:p@idp.example.com/keys' },
      field: 'config.jwks_uri',
    },
    { name: 'alg none', input: { algorithms: ['none'] }, field: 'config.algorithms' },
    { name: 'HS256', input: { algorithms: ['RS256', 'HS256'] }, field: 'config.algorithms' },
    { name: 'an unknown algorithm', input: { algorithms: ['RS1024'] }, field: 'config.algorithms' },
    { name: 'no audience', input: { audiences: [] }, field: 'config.audiences' },
    { name: 'a blank audience', input: { audiences: ['  '] }, field: 'config.audiences' },
    {
      name: 'a claim name with spaces',
      input: { userIdClaim: 'user id' },
      field: 'config.user_id_claim',
    },
    {
      name: 'group roles without a groups claim',
      input: { groupRoles: { g: ['r'] } },
      field: 'config.groups_claim',
    },
    {
      name: 'a group mapped to no role',
      input: { groupsClaim: 'groups', groupRoles: { g: [] } },
      field: 'config.group_roles',
    },
    {
      name: 'a role that is not a name',
      input: { groupsClaim: 'groups', groupRoles: { g: ['a role'] } },
      field: 'config.group_roles',
    },
  ];
  for (const c of refusals) {
    it(`refuses ${c.name}`, () => {
      assert.throws(
        () => validateIdpConfig(base(c.input)),
        (err: unknown) => err instanceof InvalidArgumentError && err.field === c.field,
      );
    });
  }
});
