import assert from 'node:assert/strict';
import {
  MAX_OVERLAP_SECONDS,
  missingVersion,
  overlapSeconds,
  servable,
  shownStatus,
} from '../../src/domain/credential-versions.js';

const now = new Date('2026-06-01T12:00:00Z');
const at = (deltaS: number) => new Date(now.getTime() + deltaS * 1000);

describe('credential versions', () => {
  const cases = [
    {
      name: 'active, no expiry',
      row: { status: 'active', expires_at: null, overlap_until: null },
      want: undefined,
    },
    {
      name: 'active, expiring later',
      row: { status: 'active', expires_at: at(60), overlap_until: null },
      want: undefined,
    },
    {
      name: 'active, expired',
      row: { status: 'active', expires_at: at(0), overlap_until: null },
      want: 'credential_expired',
    },
    {
      name: 'rotated, inside its overlap',
      row: { status: 'rotated', expires_at: null, overlap_until: at(1) },
      want: undefined,
    },
    {
      name: 'rotated, overlap just ended',
      row: { status: 'rotated', expires_at: null, overlap_until: at(0) },
      want: 'credential_version_retired',
    },
    {
      name: 'rotated, no overlap recorded',
      row: { status: 'rotated', expires_at: null, overlap_until: null },
      want: 'credential_version_retired',
    },
    {
      name: 'rotated inside overlap but expired',
      row: { status: 'rotated', expires_at: at(-1), overlap_until: at(60) },
      want: 'credential_expired',
    },
    {
      name: 'revoked',
      row: { status: 'revoked', expires_at: null, overlap_until: null },
      want: 'credential_revoked',
    },
  ] as const;
  for (const c of cases) {
    it(`serves or refuses a version that is ${c.name}`, () => {
      assert.equal(servable(c.row, now), c.want);
    });
  }

  const missing = [
    {
      name: 'the active version of nothing',
      version: 0,
      newest: undefined,
      want: 'credential_not_found',
    },
    {
      name: 'a version below the newest (shredded)',
      version: 1,
      newest: 3,
      want: 'credential_version_retired',
    },
    { name: 'a version above the newest', version: 4, newest: 3, want: 'credential_not_found' },
    {
      name: 'a version of a credential that never existed',
      version: 2,
      newest: undefined,
      want: 'credential_not_found',
    },
  ];
  for (const c of missing) {
    it(`explains a miss for ${c.name}`, () => {
      assert.equal(missingVersion(c.version, c.newest), c.want);
    });
  }

  const overlaps = [
    { name: 'a PAT key by default (48 h)', requested: 0, kind: 'ANTHROPIC_KEY', want: 48 * 3600 },
    { name: 'another kind by default', requested: 0, kind: 'OAUTH2', want: 3600 },
    { name: 'what was asked', requested: 600, kind: 'ANTHROPIC_KEY', want: 600 },
    {
      name: 'at most the cap',
      requested: MAX_OVERLAP_SECONDS + 1,
      kind: 'API_KEY',
      want: MAX_OVERLAP_SECONDS,
    },
  ];
  for (const c of overlaps) {
    it(`gives an overlap of ${c.name}`, () => {
      assert.equal(
        overlapSeconds(c.requested, c.kind, { patSeconds: 48 * 3600, otherSeconds: 3600 }),
        c.want,
      );
    });
  }

  it('shows an expired active version as expired', () => {
    assert.equal(shownStatus({ status: 'active', expires_at: at(-5) }, now), 'expired');
    assert.equal(shownStatus({ status: 'active', expires_at: at(5) }, now), 'active');
  });
});
