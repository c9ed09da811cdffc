import assert from 'node:assert/strict';
import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { type AuditService, ExportFormat } from '@fortress/proto/audit/v1/audit_pb';
import { Decision, Tier } from '@fortress/proto/common/v1/common_pb';
import { EventEnvelopeSchema } from '@fortress/proto/events/v1/events_pb';
import { createAuditStore } from '../../src/adapters/pg/audit-store.js';
import { createExportSegmentRepo } from '../../src/adapters/pg/export-segment-repo.js';
import { createExportSettingsRepo } from '../../src/adapters/pg/export-settings-repo.js';
import { createRetentionRepo } from '../../src/adapters/pg/retention-repo.js';
import { createToolCallRepo } from '../../src/adapters/pg/tool-call-repo.js';
import { createUsageRepo } from '../../src/adapters/pg/usage-repo.js';
import { toAuditRow } from '../../src/domain/audit-row.js';
import { CSV_COLUMNS } from '../../src/domain/export-format.js';
import { createAuditRpc } from '../../src/rpc/audit-service.js';
import { EXPORT_PAGE } from '../../src/rpc/export-rpc.js';
import { verifyOrg } from '../../src/verify/verify-org.js';
import { auditClient } from '../support/audit-client.js';
import { auditRow, startAuditFixture, type AuditFixture } from '../support/audit-fixture.js';

const ORG = 'org_rpc';

describe('AuditService', function () {
  this.timeout(120_000);
  let fx: AuditFixture;
  let client: Client<typeof AuditService>;
  const total = EXPORT_PAGE + 250;

  before(async () => {
    fx = await startAuditFixture();
    const impl = createAuditRpc({
      store: createAuditStore(fx.pool),
      retention: createRetentionRepo(fx.pool),
      usage: createUsageRepo(fx.pool),
      toolCalls: createToolCallRepo(fx.pool),
      exports: {
        settings: createExportSettingsRepo(fx.pool),
        segments: createExportSegmentRepo(fx.pool),
      },
      verify: (orgId, signal) => verifyOrg(fx.verifyDeps, orgId, signal),
    });
    client = auditClient(impl);
    for (let i = 0; i < total; i += 500)
      await fx.writer.append(
        ORG,
        Array.from({ length: Math.min(500, total - i) }, (_, j) => auditRow(ORG, i + j + 1)),
      );
    const change = (entityType: string, entityId: string, operation: string) =>
      toAuditRow(
        create(EventEnvelopeSchema, {
          eventId: crypto.randomUUID(),
          orgId: ORG,
          occurredAt: timestampFromDate(new Date()),
          source: 'policy',
          payload: {
            case: 'change',
            value: {
              entityType,
              entityId,
              operation,
              actor: { subjectId: 'admin_1' },
              before: { a: 1 },
              after: { a: 2 },
            },
          },
        }),
      );
    await fx.writer.append(ORG, [
      change('role', 'developer', 'update'),
      change('role', 'auditor', 'create'),
      change('rule', 'r1', 'delete'),
    ]);
    await fx.writer.append('org_other', [auditRow('org_other', 1)]);
  });
  after(() => fx?.stop());

  async function exported(
    format: ExportFormat,
    filter: { kind?: string; decision?: Decision } = {},
  ) {
    const chunks: string[] = [];
    for await (const res of client.export({ orgId: ORG, format, ...filter }))
      chunks.push(Buffer.from(res.data).toString('utf8'));
    return chunks;
  }

  it('exports every record oldest first as CSV, streamed in whole-line chunks under one header', async () => {
    const chunks = await exported(ExportFormat.CSV);
    assert.ok(chunks.length >= 2, 'more than one chunk');
    assert.ok(
      chunks.every((c) => c.endsWith('\r\n')),
      'whole lines per chunk',
    );
    const lines = chunks.join('').trimEnd().split('\r\n');
    assert.equal(lines[0], CSV_COLUMNS.join(','));
    assert.equal(lines.length, 1 + total + 3);
    assert.deepEqual(
      lines.slice(1, 4).map((l) => l.split(',')[0]),
      ['1', '2', '3'],
    );
    assert.equal(lines.at(-1)?.split(',')[0], String(total + 3));
  });

  it('exports filtered JSON lines (denies only), every line one record of the org', async () => {
    const lines = (
      await exported(ExportFormat.JSON_LINES, { kind: 'decision', decision: Decision.DENY })
    )
      .join('')
      .trimEnd()
      .split('\n');
    const records = lines.map(
      (l) => JSON.parse(l) as { orgId: string; decision: string; kind: string },
    );
    assert.equal(records.length, Math.floor(total / 3));
    assert.ok(
      records.every(
        (r) => r.orgId === ORG && r.decision === 'DECISION_DENY' && r.kind === 'decision',
      ),
    );
  });

  it('pages Query newest first with sequences of the org chain', async () => {
    const first = await client.query({ orgId: ORG, kind: 'decision', page: { pageSize: 2 } });
    const second = await client.query({
      orgId: ORG,
      kind: 'decision',
      page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? '' },
    });
    assert.deepEqual(
      [...first.records, ...second.records].map((r) => r.sequence),
      [BigInt(total), BigInt(total - 1), BigInt(total - 2), BigInt(total - 3)],
    );
  });

  const changes = [
    {
      name: 'every change',
      entityType: '',
      entityId: '',
      expected: ['rule:r1', 'role:auditor', 'role:developer'],
    },
    {
      name: 'changes to roles',
      entityType: 'role',
      entityId: '',
      expected: ['role:auditor', 'role:developer'],
    },
    {
      name: 'changes to one role',
      entityType: 'role',
      entityId: 'developer',
      expected: ['role:developer'],
    },
  ];
  for (const c of changes)
    it(`queries ${c.name} in the change log, with before and after`, async () => {
      const res = await client.queryChanges({
        orgId: ORG,
        entityType: c.entityType,
        entityId: c.entityId,
      });
      assert.deepEqual(
        res.records.map((r) => r.resource),
        c.expected,
      );
      const change = res.records[0]?.event?.payload;
      assert.equal(change?.case, 'change');
      if (change?.case === 'change')
        assert.deepEqual([change.value.before?.['a'], change.value.after?.['a']], [1, 2]);
    });

  it('sets retention from the tier, records the change in the log, and reads it back', async () => {
    assert.deepEqual((await client.getRetention({ orgId: ORG })).retention, {
      $typeName: 'fortress.audit.v1.Retention',
      orgId: ORG,
      tier: Tier.SOHO,
      period: 'P90D',
      isDefault: true,
    });
    const set = await client.setRetention({
      orgId: ORG,
      tier: Tier.ZERO_TRUST,
      actorId: 'operator',
    });
    assert.deepEqual([set.retention?.period, set.retention?.isDefault], ['P7Y', false]);
    assert.equal((await client.getRetention({ orgId: ORG })).retention?.tier, Tier.ZERO_TRUST);
    const [change] = (await client.queryChanges({ orgId: ORG, entityType: 'retention' })).records;
    assert.equal(change?.action, 'retention.update');
    const payload = change?.event?.payload;
    assert.ok(payload?.case === 'change');
    assert.deepEqual(
      [
        payload.value.before?.['period'],
        payload.value.after?.['period'],
        payload.value.actor?.subjectId,
      ],
      ['P90D', 'P7Y', 'operator'],
    );
  });

  it('verifies the org over RPC: every record, from sequence 1', async () => {
    await fx.checkpoint(ORG);
    const v = await client.verify({ orgId: ORG });
    assert.deepEqual(
      [v.ok, v.recordsChecked, v.firstSequence, v.checkpointsChecked, v.reason],
      [true, BigInt(total + 4), 1n, 1n, ''],
    );
  });

  it('reads the export setting: on by default, with nothing owed', async () => {
    const { settings } = await client.getExportSettings({ orgId: 'org_rpcexport' });
    assert.deepEqual(
      [settings?.enabled, settings?.isDefault, settings?.pendingSegments, settings?.updatedAt],
      [true, true, 0, undefined],
    );
  });

  it('turns export off, recording who, who approved, before and after; reports what is owed', async () => {
    const org = 'org_rpcexport';
    const set = await client.setExportSettings({
      orgId: org,
      enabled: false,
      actorId: 'usr_alice',
      approvedBy: 'usr_bob',
    });
    assert.deepEqual([set.settings?.enabled, set.settings?.isDefault], [false, false]);
    assert.ok(set.settings?.updatedAt);
    const [change] = (await client.queryChanges({ orgId: org, entityType: 'audit_export' }))
      .records;
    assert.equal(change?.action, 'audit_export.update');
    assert.equal(change?.resource, `audit_export:${org}`);
    const payload = change?.event?.payload;
    assert.ok(payload?.case === 'change');
    assert.deepEqual(
      {
        before: payload.value.before,
        after: payload.value.after,
        actor: payload.value.actor?.subjectId,
        approvedBy: payload.value.approvedBy,
      },
      {
        before: { enabled: true, default: true },
        after: { enabled: false, default: false },
        actor: 'usr_alice',
        approvedBy: 'usr_bob',
      },
    );
    // The span holding the switch-off is still exported: it is owed until written.
    await fx.checkpoint(org);
    const got = await client.getExportSettings({ orgId: org });
    assert.deepEqual([got.settings?.enabled, got.settings?.pendingSegments], [false, 1]);
  });

  const invalid = [
    {
      name: 'an export setting without an actor',
      call: () => client.setExportSettings({ orgId: ORG, enabled: false }),
      field: 'actor_id',
    },
    {
      name: 'an export setting of another shape of org id',
      call: () => client.getExportSettings({ orgId: 'tenant 1' }),
      field: 'org_id',
    },
    {
      name: 'an export without a format',
      call: () => exported(ExportFormat.UNSPECIFIED),
      field: 'format',
    },
    {
      name: 'a query for another shape of org id',
      call: () => client.query({ orgId: "org_x'--" }),
      field: 'org_id',
    },
    {
      name: 'an unknown kind',
      call: () => client.query({ orgId: ORG, kind: 'secrets' }),
      field: 'kind',
    },
    {
      name: 'a change query by id without a type',
      call: () => client.queryChanges({ orgId: ORG, entityId: 'developer' }),
      field: 'entity_type',
    },
    {
      name: 'a retention without a tier',
      call: () => client.setRetention({ orgId: ORG, actorId: 'x' }),
      field: 'tier',
    },
    {
      name: 'a retention without an actor',
      call: () => client.setRetention({ orgId: ORG, tier: Tier.BANK }),
      field: 'actor_id',
    },
  ];
  for (const c of invalid)
    it(`refuses ${c.name} as invalid ${c.field}`, async () => {
      const err = await (async () => {
        await c.call();
      })().catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.InvalidArgument);
    });
});
