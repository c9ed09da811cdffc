import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { GENESIS_HASH } from '../../src/domain/chain.js';
import { openCheckpoint, signCheckpoint, statementText } from '../../src/domain/checkpoint.js';

const pair = () => generateKeyPairSync('ed25519');

describe('checkpoints', () => {
  const { privateKey } = pair();
  const key = { keyId: 'ak-1', privateKey };
  const keys = new Map<string, KeyObject>([['ak-1', createPublicKey(privateKey)]]);
  const point = { seq: 42n, hash: Buffer.alloc(32, 7) };
  const at = new Date('2026-11-22T12:00:00.000Z');
  const cp = signCheckpoint(key, 'periodic', 'org_a', point, at);

  it('signs a canonical statement of kind, org, sequence, head hash, time and key', () => {
    assert.equal(
      cp.statement,
      `{"head_hash":"${'07'.repeat(32)}","key_id":"ak-1","kind":"periodic","org_id":"org_a","seq":"42","signed_at":"2026-11-22T12:00:00.000Z","type":"fortress.audit.checkpoint","v":1}`,
    );
    assert.deepEqual(openCheckpoint(cp.statement, cp.signature, keys), cp);
  });

  const forged = [
    {
      name: 'another sequence',
      statement: cp.statement.replace('"42"', '"43"'),
      signature: cp.signature,
    },
    {
      name: 'another org',
      statement: cp.statement.replace('org_a', 'org_b'),
      signature: cp.signature,
    },
    {
      name: 'another head hash',
      statement: statementText({ ...cp, headHash: GENESIS_HASH }),
      signature: cp.signature,
    },
    {
      name: 'a flipped signature bit',
      statement: cp.statement,
      signature: Buffer.from(cp.signature.map((b, i) => (i === 3 ? b ^ 1 : b))),
    },
    {
      name: 'the same fields written differently',
      statement: cp.statement.replace('{', '{ '),
      signature: cp.signature,
    },
    { name: 'not JSON at all', statement: 'garbage', signature: cp.signature },
    {
      name: 'a signature by another key',
      ...(() => {
        const other = signCheckpoint(
          { keyId: 'ak-1', privateKey: pair().privateKey },
          'periodic',
          'org_a',
          point,
          at,
        );
        return { statement: other.statement, signature: other.signature };
      })(),
    },
    {
      name: 'an unknown key id',
      ...(() => {
        const other = signCheckpoint({ keyId: 'ak-2', privateKey }, 'periodic', 'org_a', point, at);
        return { statement: other.statement, signature: other.signature };
      })(),
    },
  ];
  for (const f of forged)
    it(`refuses a statement with ${f.name}`, () => {
      assert.equal(openCheckpoint(f.statement, f.signature, keys), undefined);
    });
});
