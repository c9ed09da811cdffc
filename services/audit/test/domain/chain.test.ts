import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  canonicalRecord,
  chainHash,
  GENESIS_HASH,
  linkRows,
  micros,
  recordOf,
} from '../../src/domain/chain.js';
import { auditRow } from '../support/audit-fixture.js';

const ORG = 'org_chain';

describe('the hash chain', () => {
  it('hashes SHA-256(previous || canonical bytes)', () => {
    const canonical = Buffer.from('{"v":1}');
    const expected = createHash('sha256').update(Buffer.alloc(32)).update(canonical).digest();
    assert.deepEqual(chainHash(GENESIS_HASH, canonical), expected);
  });

  it('links rows after the head with consecutive sequences, each hash over the previous', () => {
    const rows = [1, 2, 3].map((n) => auditRow(ORG, n));
    const at = new Date('2026-11-22T12:00:00.123Z');
    const links = linkRows({ seq: 7n, hash: GENESIS_HASH }, rows, at);
    assert.deepEqual(
      links.map((l) => l.seq),
      [8n, 9n, 10n],
    );
    let prev = GENESIS_HASH;
    for (const l of links) {
      assert.deepEqual(l.hash, chainHash(prev, canonicalRecord(recordOf(l.row, l.seq, at))));
      prev = l.hash;
    }
  });

  it('keeps timestamps to the microsecond, as PostgreSQL stores them', () => {
    assert.equal(micros(new Date('2026-11-22T12:00:00.123Z')), '1795348800123000');
  });

  const fields = [
    { name: 'the org', change: { orgId: 'org_other' } },
    { name: 'the decision', change: { decision: 'allow' as const } },
    { name: 'a reason', change: { reasons: [{ code: 'x', message: '', ruleId: '' }] } },
    { name: 'the latency', change: { latencyUs: 1 } },
    { name: 'the status', change: { statusCode: 200 } },
    { name: 'the occurrence time', change: { occurredAt: new Date(0) } },
    {
      name: 'a nested value of the event',
      change: { event: { orgId: ORG, decision: { requestId: 'req_0' } } },
    },
    { name: 'the request id', change: { requestId: 'req_x' } },
  ];
  for (const f of fields)
    it(`changes the canonical bytes when ${f.name} changes`, () => {
      const row = auditRow(ORG, 3);
      const at = new Date();
      assert.notDeepEqual(
        canonicalRecord(recordOf({ ...row, ...f.change }, 1n, at)),
        canonicalRecord(recordOf(row, 1n, at)),
      );
    });

  it('changes the canonical bytes with the position and the recording time', () => {
    const row = auditRow(ORG, 3);
    const at = new Date();
    const base = canonicalRecord(recordOf(row, 1n, at));
    assert.notDeepEqual(canonicalRecord(recordOf(row, 2n, at)), base);
    assert.notDeepEqual(canonicalRecord(recordOf(row, 1n, new Date(at.getTime() + 1))), base);
  });
});
