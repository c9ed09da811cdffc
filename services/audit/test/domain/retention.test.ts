import assert from 'node:assert/strict';
import { Tier } from '@fortress/proto/common/v1/common_pb';
import { expiredPrefixEnd, tierName, tierOf, type AgedLink } from '../../src/domain/retention.js';

const day = 86_400_000;
const link = (seq: number, ageDays: number, now: number): AgedLink => ({
  seq: BigInt(seq),
  hash: Buffer.alloc(32, seq),
  recordedAt: new Date(now - ageDays * day),
});

describe('retention', () => {
  const now = Date.UTC(2026, 10, 22);
  const cutoff = new Date(now - 90 * day);
  const cases = [
    { name: 'nothing when the oldest row is young', ages: [10, 5, 1], end: undefined },
    { name: 'the last of the expired prefix', ages: [200, 100, 91, 89, 1], end: 3n },
    { name: 'every row when all are expired', ages: [300, 200], end: 2n },
    {
      name: 'only up to the first row to keep, even if an older one follows',
      ages: [200, 10, 300],
      end: 1n,
    },
    { name: 'nothing for no rows', ages: [], end: undefined },
  ];
  for (const c of cases)
    it(`deletes ${c.name}`, () => {
      const rows = c.ages.map((a, i) => link(i + 1, a, now));
      assert.equal(expiredPrefixEnd(rows, cutoff)?.seq, c.end);
    });

  it('maps every tier to its name and back, and refuses an unspecified one', () => {
    for (const t of [Tier.SOHO, Tier.BANK, Tier.ZERO_TRUST]) {
      const name = tierName(t);
      assert.ok(name);
      assert.equal(tierOf(name), t);
    }
    assert.equal(tierName(Tier.UNSPECIFIED), undefined);
  });
});
