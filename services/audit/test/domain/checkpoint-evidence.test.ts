import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { signCheckpoint, type SignedCheckpoint } from '../../src/domain/checkpoint.js';
import {
  weighCheckpoints,
  type ObjectCheckpoint,
  type StoredCheckpointRow,
} from '../../src/domain/checkpoint-evidence.js';

const { privateKey } = generateKeyPairSync('ed25519');
const key = { keyId: 'k1', privateKey };
const keys = new Map<string, KeyObject>([['k1', createPublicKey(privateKey)]]);
const ORG = 'org_e';
const T = new Date('2026-11-22T12:00:00Z');
const sign = (seq: bigint, at = T, org = ORG): SignedCheckpoint =>
  signCheckpoint(key, 'periodic', org, { seq, hash: Buffer.alloc(32, Number(seq)) }, at);
const row = (c: SignedCheckpoint): StoredCheckpointRow => ({
  orgId: c.orgId,
  kind: c.kind,
  seq: c.seq,
  headHash: c.headHash,
  statement: c.statement,
  signature: c.signature,
});
const copy = (c: SignedCheckpoint): ObjectCheckpoint => ({
  key: `checkpoints/${c.orgId}/${c.kind}/${c.seq.toString().padStart(20, '0')}.json`,
  statement: c.statement,
  signature: c.signature,
});
const later = new Date(T.getTime() + 1000);

describe('weighCheckpoints', () => {
  const a = sign(10n);
  const b = sign(20n);

  it('trusts checkpoints present and identical in both places, in sequence order', () => {
    const e = weighCheckpoints(ORG, [row(b), row(a)], [copy(a), copy(b)], keys, later);
    assert.equal(e.failure, undefined);
    assert.deepEqual(
      e.trusted.map((c) => c.seq),
      [10n, 20n],
    );
  });

  it('trusts an object store copy whose database row is gone (that is how rewrites are caught)', () => {
    const e = weighCheckpoints(ORG, [row(a)], [copy(a), copy(b)], keys, later);
    assert.equal(e.failure, undefined);
    assert.deepEqual(
      e.trusted.map((c) => c.seq),
      [10n, 20n],
    );
  });

  it('ignores copies signed after the snapshot it is verifying', () => {
    const e = weighCheckpoints(
      ORG,
      [row(a)],
      [copy(a), copy(sign(30n, new Date(later.getTime() + 1)))],
      keys,
      later,
    );
    assert.deepEqual(
      e.trusted.map((c) => c.seq),
      [10n],
    );
  });

  const cases = [
    {
      name: 'a database row without an object store copy',
      db: [row(a), row(b)],
      store: [copy(a)],
      seq: 20n,
      reason: 'checkpoint_not_in_object_store',
    },
    {
      name: 'a database row whose copy differs',
      db: [row(b)],
      store: [copy(sign(20n, new Date(T.getTime() + 5)))],
      seq: 20n,
      reason: 'checkpoint_differs_from_object_store',
    },
    {
      name: 'a database row whose columns disagree with what was signed',
      db: [{ ...row(a), headHash: Buffer.alloc(32) }],
      store: [copy(a)],
      seq: 10n,
      reason: 'checkpoint_signature_invalid',
    },
    {
      name: 'a database row with a forged signature',
      db: [{ ...row(a), signature: Buffer.alloc(64) }],
      store: [copy(a)],
      seq: 10n,
      reason: 'checkpoint_signature_invalid',
    },
    {
      name: 'an object that is not a signed checkpoint',
      db: [],
      store: [{ ...copy(b), statement: '' }],
      seq: 20n,
      reason: 'checkpoint_signature_invalid',
    },
    {
      name: "another org's checkpoint under this org's prefix",
      db: [],
      store: [copy(sign(5n, T, 'org_other'))],
      seq: 5n,
      reason: 'checkpoint_signature_invalid',
    },
  ];
  for (const c of cases)
    it(`reports ${c.name}`, () => {
      const e = weighCheckpoints(ORG, c.db, c.store, keys, later);
      assert.deepEqual(
        { seq: e.failure?.seq, reason: e.failure?.reason },
        { seq: c.seq, reason: c.reason },
      );
    });
});
