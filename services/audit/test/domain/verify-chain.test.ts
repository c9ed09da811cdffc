import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chainHash, GENESIS_HASH, type ChainPoint } from '../../src/domain/chain.js';
import { signCheckpoint, type SignedCheckpoint } from '../../src/domain/checkpoint.js';
import { createChainVerifier, type StoredLink } from '../../src/domain/verify-chain.js';

const key = { keyId: 'k', privateKey: generateKeyPairSync('ed25519').privateKey };
const ORG = 'org_v';

/** A valid chain of n links (sequences 1..n) with canonical bytes "row <seq>". */
function chain(n: number, from: ChainPoint = { seq: 0n, hash: GENESIS_HASH }): StoredLink[] {
  const links: StoredLink[] = [];
  let prev = from.hash;
  for (let s = from.seq + 1n; s <= from.seq + BigInt(n); s++) {
    const canonical = Buffer.from(`row ${s}`);
    prev = chainHash(prev, canonical);
    links.push({ seq: s, canonical, storedHash: prev });
  }
  return links;
}
const at = (links: StoredLink[], seq: bigint): ChainPoint => {
  const l = links.find((x) => x.seq === seq);
  if (!l) throw new Error(`no ${seq}`);
  return { seq, hash: l.storedHash };
};
const cp = (kind: 'periodic' | 'retention', p: ChainPoint): SignedCheckpoint =>
  signCheckpoint(key, kind, ORG, p, new Date());
const headOf = (links: StoredLink[]): ChainPoint => at(links, links.at(-1)?.seq ?? 0n);

/** Rewrites rows from `from` on with a changed body and recomputed hashes (a careful forger). */
function rewritten(links: StoredLink[], from: bigint): StoredLink[] {
  let prev = links.find((l) => l.seq === from - 1n)?.storedHash ?? GENESIS_HASH;
  return links.map((l) => {
    if (l.seq < from) return l;
    const canonical = l.seq === from ? Buffer.from('forged') : l.canonical;
    prev = chainHash(prev, canonical);
    return { ...l, canonical, storedHash: prev };
  });
}

function run(links: StoredLink[], checkpoints: SignedCheckpoint[], head: ChainPoint | undefined) {
  const v = createChainVerifier(checkpoints);
  for (const l of links) v.push(l);
  return v.finish(head);
}

describe('createChainVerifier', () => {
  const good = chain(10);
  const cps = [cp('periodic', at(good, 5n)), cp('periodic', at(good, 10n))];

  it('accepts an intact chain and counts rows and matched checkpoints', () => {
    const v = run(good, cps, headOf(good));
    assert.deepEqual(
      { ok: v.ok, records: v.recordsChecked, first: v.firstSequence, cps: v.checkpointsChecked },
      { ok: true, records: 10, first: 1n, cps: 2 },
    );
  });

  const flip = (l: StoredLink): StoredLink => ({
    ...l,
    canonical: Buffer.from(`${l.canonical.toString()}!`),
  });
  const cases: Array<{
    name: string;
    links: StoredLink[];
    checkpoints?: SignedCheckpoint[];
    head?: ChainPoint | undefined;
    seq: bigint;
    reason: string;
  }> = [
    {
      name: 'an edited row',
      links: good.map((l) => (l.seq === 4n ? flip(l) : l)),
      seq: 4n,
      reason: 'hash_mismatch',
    },
    {
      name: 'an edited stored hash',
      links: good.map((l) => (l.seq === 9n ? { ...l, storedHash: Buffer.alloc(32) } : l)),
      seq: 9n,
      reason: 'hash_mismatch',
    },
    {
      name: 'a deleted row',
      links: good.filter((l) => l.seq !== 6n),
      seq: 6n,
      reason: 'sequence_gap',
    },
    {
      name: 'a duplicated row',
      links: [...good.slice(0, 3), good[2] as StoredLink, ...good.slice(3)],
      seq: 3n,
      reason: 'sequence_duplicate',
    },
    {
      name: 'two rows swapped',
      links: good.map((l) =>
        l.seq === 2n
          ? { ...(good[2] as StoredLink), seq: 2n }
          : l.seq === 3n
            ? { ...(good[1] as StoredLink), seq: 3n }
            : l,
      ),
      seq: 2n,
      reason: 'hash_mismatch',
    },
    {
      name: 'a rewrite with every hash recomputed',
      links: rewritten(good, 7n),
      seq: 6n,
      reason: 'checkpoint_mismatch',
    },
    {
      name: 'the last rows deleted, head rewound',
      links: good.slice(0, 8),
      head: at(good, 8n),
      seq: 9n,
      reason: 'rows_missing',
    },
    { name: 'every row deleted', links: [], head: undefined, seq: 1n, reason: 'rows_missing' },
    {
      name: 'a missing head',
      links: good,
      checkpoints: [],
      head: undefined,
      seq: 10n,
      reason: 'head_mismatch',
    },
    {
      name: 'a head behind the rows',
      links: good,
      checkpoints: [],
      head: at(good, 8n),
      seq: 9n,
      reason: 'rows_beyond_head',
    },
    {
      name: 'a head hash that disagrees',
      links: good,
      checkpoints: [],
      head: { seq: 10n, hash: Buffer.alloc(32, 1) },
      seq: 10n,
      reason: 'head_mismatch',
    },
    {
      name: 'a prefix deleted without a retention checkpoint',
      links: good.slice(3),
      seq: 1n,
      reason: 'rows_missing',
    },
  ];
  for (const c of cases)
    it(`finds ${c.name} at sequence ${c.seq} (${c.reason})`, () => {
      const v = run(c.links, c.checkpoints ?? cps, 'head' in c ? c.head : headOf(good));
      assert.equal(v.ok, false);
      assert.deepEqual(
        { seq: v.failure?.seq, reason: v.failure?.reason },
        { seq: c.seq, reason: c.reason },
      );
    });

  it('starts from a signed retention checkpoint when the prefix was deleted by retention', () => {
    const v = run(good.slice(4), [cp('retention', at(good, 4n)), ...cps], headOf(good));
    assert.deepEqual(
      { ok: v.ok, first: v.firstSequence, records: v.recordsChecked },
      { ok: true, first: 5n, records: 6 },
    );
  });

  it('finds rows deleted past the retention anchor', () => {
    const v = run(good.slice(6), [cp('retention', at(good, 4n)), ...cps], headOf(good));
    assert.deepEqual(
      { seq: v.failure?.seq, reason: v.failure?.reason },
      { seq: 5n, reason: 'rows_missing' },
    );
  });

  it('accepts an org whose every row went by retention, standing at the anchor', () => {
    const v = run([], [cp('retention', at(good, 10n))], headOf(good));
    assert.deepEqual({ ok: v.ok, first: v.firstSequence }, { ok: true, first: 11n });
  });

  it('reports the earlier of its own failure and one found in the checkpoints', () => {
    const v = createChainVerifier(cps);
    for (const l of good.map((x) => (x.seq === 8n ? flip(x) : x))) v.push(l);
    const verdict = v.finish(headOf(good), {
      seq: 3n,
      reason: 'checkpoint_not_in_object_store',
      problem: 'x',
    });
    assert.deepEqual(
      { seq: verdict.failure?.seq, reason: verdict.failure?.reason },
      { seq: 3n, reason: 'checkpoint_not_in_object_store' },
    );
  });

  it('continues a chain that started after an anchor of another value', () => {
    const tail = chain(3, at(good, 10n));
    const v = run(tail, [cp('retention', at(good, 10n))], headOf(tail));
    assert.equal(v.ok, true);
  });
});
