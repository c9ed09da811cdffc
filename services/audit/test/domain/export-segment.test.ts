import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { create } from '@bufbuild/protobuf';
import { AuditRecordSchema } from '@fortress/proto/audit/v1/audit_pb';
import { jsonLine } from '../../src/domain/export-format.js';
import {
  segmentKey,
  segmentObject,
  segmentsOf,
  spanExported,
  SegmentIncompleteError,
} from '../../src/domain/export-segment.js';

const records = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) =>
    create(AuditRecordSchema, {
      orgId: 'org_x',
      sequence: BigInt(from + i),
      kind: 'decision',
      action: 'pat:messages.create',
    }),
  );
const span = (first: bigint, last: bigint) => ({
  orgId: 'org_x',
  firstSeq: first,
  lastSeq: last,
  checkpointSeq: last,
});

describe('export segments', () => {
  describe('spanExported', () => {
    // The span is (previous checkpoint 10, head]; changedSeq is where the setting last flipped.
    const cases = [
      { name: 'an org that never set it (on by default)', setting: undefined, out: true },
      { name: 'on, flipped long ago', setting: { enabled: true, changedSeq: 3n }, out: true },
      {
        name: 'on, flipped inside the span',
        setting: { enabled: true, changedSeq: 12n },
        out: true,
      },
      {
        name: 'off since before the span',
        setting: { enabled: false, changedSeq: 3n },
        out: false,
      },
      {
        name: 'off since the previous checkpoint exactly',
        setting: { enabled: false, changedSeq: 10n },
        out: false,
      },
      {
        name: 'switched off inside the span (on before that)',
        setting: { enabled: false, changedSeq: 11n },
        out: true,
      },
    ];
    for (const c of cases)
      it(`is ${c.out ? 'exported' : 'not exported'} for ${c.name}`, () => {
        assert.equal(spanExported(c.setting, 10n), c.out);
      });
  });

  it('slices a long span into segments of at most N records, all sealed by its checkpoint', () => {
    assert.deepEqual(
      segmentsOf('org_x', 11n, 20n, 4).map((s) => [s.firstSeq, s.lastSeq, s.checkpointSeq]),
      [
        [11n, 14n, 20n],
        [15n, 18n, 20n],
        [19n, 20n, 20n],
      ],
    );
    assert.deepEqual(
      segmentsOf('org_x', 1n, 3n, 10_000).map((s) => [s.firstSeq, s.lastSeq]),
      [[1n, 3n]],
    );
  });

  it('names a segment by org and its padded first and last sequence', () => {
    assert.equal(
      segmentKey(span(1n, 12n)),
      'audit-export/org_x/00000000000000000001-00000000000000000012.jsonl.gz',
    );
  });

  it('holds the records as JSON lines, gzipped, the same bytes every time', () => {
    const hash = Buffer.alloc(32, 7);
    const a = segmentObject(span(5n, 7n), records(5, 7), hash);
    const b = segmentObject(span(5n, 7n), records(5, 7), hash);
    assert.deepEqual(a.body, b.body);
    assert.equal(a.sha256, b.sha256);
    assert.equal(gunzipSync(a.body).toString('utf8'), records(5, 7).map(jsonLine).join(''));
    assert.equal(a.metadata['fortress-last-hash'], hash.toString('hex'));
    assert.equal(a.metadata['fortress-records'], '3');
    assert.equal(
      a.metadata['fortress-checkpoint-key'],
      'checkpoints/org_x/periodic/00000000000000000007.json',
    );
  });

  const incomplete = [
    { name: 'a record missing inside', got: [5, 7] },
    { name: 'the last record missing', got: [5, 6] },
    { name: 'no records at all', got: [] },
  ];
  for (const c of incomplete)
    it(`refuses a segment with ${c.name}`, () => {
      const got = records(5, 7).filter((r) => c.got.includes(Number(r.sequence)));
      assert.throws(
        () => segmentObject(span(5n, 7n), got, Buffer.alloc(32)),
        SegmentIncompleteError,
      );
    });
});
