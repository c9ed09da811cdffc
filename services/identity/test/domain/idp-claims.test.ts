import assert from 'node:assert/strict';
import { userFromClaims } from '../../src/domain/idp-claims.js';
import { validateIdpConfig, type IdpConfig } from '../../src/domain/idp-config.js';

const config = (overrides: Partial<IdpConfig> = {}): IdpConfig => ({
  ...validateIdpConfig({
    issuer: 'https://idp.example.com',
    audiences: ['api://fortress'],
    jwksUri: 'https://idp.example.com/keys',
    algorithms: [],
    userIdClaim: 'oid',
    emailClaims: [],
    deviceIdClaim: '',
    attributeClaims: ['department', 'clearance', 'locations', 'manager'],
    groupsClaim: 'groups',
    groupRoles: { 'g-eng': ['developer'], 'g-risk': ['approver', 'auditor'] },
  }),
  updatedAt: new Date(),
  ...overrides,
});

describe('userFromClaims', () => {
  const cases = [
    {
      name: 'maps an Entra ID token: oid, email, deviceid, attributes, group roles',
      claims: {
        sub: 'pairwise-sub',
        oid: 'oid-1',
        email: 'Ada@Bank.example',
        deviceid: 'dev-1',
        department: 'engineering',
        clearance: 3,
        locations: ['ZRH', 'LON'],
        manager: { id: 'x' },
        groups: ['g-risk', 'g-unknown', 'g-eng'],
      },
      want: {
        userId: 'oid-1',
        email: 'ada@bank.example',
        deviceId: 'dev-1',
        attributes: { department: 'engineering', clearance: '3', locations: 'ZRH,LON' },
        groupRoles: ['approver', 'auditor', 'developer'],
      },
    },
    {
      name: 'falls back to preferred_username, then upn, for the email',
      claims: { oid: 'oid-2', preferred_username: 'bob@bank.example', upn: 'b@bank.example' },
      want: {
        userId: 'oid-2',
        email: 'bob@bank.example',
        deviceId: '',
        attributes: {},
        groupRoles: [],
      },
    },
    {
      name: 'skips an email claim that is not an address (a bare username)',
      claims: { oid: 'oid-3', email: 42, preferred_username: 'carol', upn: 'carol@bank.example' },
      want: {
        userId: 'oid-3',
        email: 'carol@bank.example',
        deviceId: '',
        attributes: {},
        groupRoles: [],
      },
    },
    {
      name: 'takes a single group name as a list of one, ignoring prototype names',
      claims: { oid: 'oid-4', groups: 'g-eng' },
      want: { userId: 'oid-4', email: '', deviceId: '', attributes: {}, groupRoles: ['developer'] },
    },
    {
      name: 'grants nothing for a group called "constructor"',
      claims: { oid: 'oid-5', groups: ['constructor', '__proto__', 'toString'] },
      want: { userId: 'oid-5', email: '', deviceId: '', attributes: {}, groupRoles: [] },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(userFromClaims(config(), c.claims), c.want);
    });
  }

  it('names no user when the user claim is missing, empty, not text or too long', () => {
    for (const oid of [undefined, '', 7, ['a'], 'x'.repeat(257)]) {
      assert.equal(userFromClaims(config(), { sub: 'fallback-is-not-used', oid }), undefined);
    }
  });

  it('reads the user from "sub" by default', () => {
    const c = config({ userIdClaim: 'sub' });
    assert.equal(userFromClaims(c, { sub: 's-1' })?.userId, 's-1');
  });
});
