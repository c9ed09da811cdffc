import assert from 'node:assert/strict';
import { create, fromJsonString } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AuditRecordSchema } from '@fortress/proto/audit/v1/audit_pb';
import { Decision, PrincipalKind, Product } from '@fortress/proto/common/v1/common_pb';
import { csvCell, csvHeader, csvLine, jsonLine } from '../../src/domain/export-format.js';

const record = create(AuditRecordSchema, {
  eventId: '7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a01',
  orgId: 'org_x',
  sequence: 12n,
  occurredAt: timestampFromDate(new Date('2026-11-22T12:00:00.500Z')),
  recordedAt: timestampFromDate(new Date('2026-11-22T12:00:01Z')),
  kind: 'decision',
  product: Product.PAT,
  actor: {
    kind: PrincipalKind.ORG_KEY,
    subjectId: 'key_1',
    apiKeyId: 'key_1',
    email: 'a,b@example.com',
  },
  action: 'pat:messages.create',
  resource: 'model:claude-haiku-4-5',
  decision: Decision.DENY,
  reasons: [
    { code: 'model_not_allowed', message: 'no', ruleId: 'role:dev' },
    { code: 'second', message: '', ruleId: '' },
  ],
  latencyUs: 512,
  requestId: 'req_1',
  traceId: 'abc',
});

describe('export formats', () => {
  const cells = [
    { name: 'plain text as is', value: 'model:claude', out: 'model:claude' },
    { name: 'a comma quoted', value: 'a,b', out: '"a,b"' },
    { name: 'quotes doubled', value: 'say "hi"', out: '"say ""hi"""' },
    { name: 'a line break quoted', value: 'a\nb', out: '"a\nb"' },
    { name: 'a formula defused', value: '=HYPERLINK("x")', out: '"\'=HYPERLINK(""x"")"' },
    { name: 'a leading plus, minus or at defused', value: '@SUM(A1)', out: "'@SUM(A1)" },
    { name: 'surrounding spaces kept by quoting', value: ' x ', out: '" x "' },
  ];
  for (const c of cells)
    it(`writes ${c.name}`, () => {
      assert.equal(csvCell(c.value), c.out);
    });

  it('writes a record as one CSV line under the header, column for column', () => {
    const header = csvHeader().trimEnd().split(',');
    const line = csvLine(record);
    assert.ok(line.endsWith('\r\n'));
    assert.deepEqual(header.length, 20);
    assert.equal(
      line,
      '12,7b0c2f0e-8f6a-4c36-9d3e-2b7f1c4e5a01,2026-11-22T12:00:00.500Z,2026-11-22T12:00:01.000Z,decision,pat,deny,pat:messages.create,model:claude-haiku-4-5,org_key,key_1,,"a,b@example.com",key_1,,model_not_allowed (role:dev); second,512,,req_1,abc\r\n',
    );
  });

  it('writes a record as one JSON line that parses back to the same record', () => {
    const line = jsonLine(record);
    assert.equal(line.indexOf('\n'), line.length - 1);
    assert.deepEqual(fromJsonString(AuditRecordSchema, line), record);
  });
});
