import { createExportSettingsRepo } from '../../../src/adapters/pg/export-settings-repo.js';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../../packages/kit/test/support/schema-hardening.js';
import { createAuditStore, type AuditStore } from '../../../src/adapters/pg/audit-store.js';
import { createCheckpointRepo } from '../../../src/adapters/pg/checkpoint-repo.js';
import { createRetentionRepo } from '../../../src/adapters/pg/retention-repo.js';
import type { AuditRow } from '../../../src/domain/audit-row.js';
import { signCheckpoint } from '../../../src/domain/checkpoint.js';
import { seedAlertRows } from '../../support/alert-rows.js';
import { seedWebhookRows } from '../../support/webhook-rows.js';

const ORG_A = 'org_aaa111';
const ORG_B = 'org_bbb222';

const row = (orgId: string, overrides: Partial<AuditRow> = {}): AuditRow => ({
  eventId: randomUUID(),
  orgId,
  kind: 'decision',
  occurredAt: new Date('2026-11-22T12:00:00Z'),
  source: 'edge',
  product: 'pat',
  actor: { kind: 'PRINCIPAL_KIND_ORG_KEY', subjectId: 'key_1' },
  action: 'pat:messages.create',
  resource: 'model:claude-sonnet-4-5',
  decision: 'allow',
  reasons: [
    { code: 'allowed', message: 'allowed by role grant', ruleId: 'role:dev:allow:model:*' },
  ],
  latencyUs: 512,
  statusCode: null,
  requestId: `req_${orgId}`,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  event: { orgId },
  ...overrides,
});

describe('audit store on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let pool: pg.Pool;
  let store: AuditStore;

  before(async () => {
    fx = await startPgFixture(['audit']);
    pool = fx.runtimePool('audit');
    store = createAuditStore(pool);
    await store.append(row(ORG_A));
    await store.append(row(ORG_A, { decision: 'deny', requestId: 'req_denied' }));
    await store.append(row(ORG_B));
    // Every tenant table needs rows of ORG_A for the hardening checks.
    const key = { keyId: 'k1', privateKey: generateKeyPairSync('ed25519').privateKey };
    await createCheckpointRepo(pool).checkpoint(
      ORG_A,
      (org, point, at) => signCheckpoint(key, 'periodic', org, point, at),
      () => Promise.resolve(),
    );
    await createRetentionRepo(pool).set(ORG_A, 'bank', () =>
      row(ORG_A, { kind: 'change', requestId: '' }),
    );
    await seedWebhookRows(pool, ORG_A, () => row(ORG_A, { kind: 'change', requestId: '' }));
    await seedAlertRows(pool, ORG_A, () => row(ORG_A, { kind: 'change', requestId: '' }));
    // The checkpoint above queued its span for export; the setting needs a row of its own.
    await createExportSettingsRepo(pool).set(ORG_A, true, () =>
      row(ORG_A, { kind: 'change', requestId: '' }),
    );
  });
  after(() => fx?.stop());

  describe('schema', () =>
    itHardensTheSchema(
      'audit',
      [
        'activity_cursors',
        'activity_hours',
        'alert_emails',
        'alert_settings',
        'anomalies',
        'chain_heads',
        'checkpoints',
        'events',
        'export_segments',
        'export_settings',
        'retention_policies',
        'webhook_attempts',
        'webhook_deliveries',
        'webhook_messages',
        'webhook_subscriptions',
      ],
      () => fx,
      ORG_A,
      ['rejected_events'],
    ));

  describe('append', () => {
    it('is idempotent on event_id: the second append returns false and adds no row', async () => {
      const r = row(ORG_A, { requestId: 'req_twice' });
      assert.equal(await store.append(r), true);
      assert.equal(await store.append({ ...r, action: 'changed' }), false);
      const rows = await store.query({ orgId: ORG_A, requestId: 'req_twice', limit: 10 });
      assert.equal(rows.length, 1);
      assert.equal(rows[0]?.action, 'pat:messages.create');
    });

    it('reads back the columns it wrote', async () => {
      const r = row(ORG_A, {
        kind: 'outcome',
        decision: null,
        reasons: [],
        statusCode: 200,
        latencyUs: 123_456,
        requestId: 'req_out',
      });
      await store.append(r);
      const [stored] = await store.query({ orgId: ORG_A, requestId: 'req_out', limit: 1 });
      assert.deepEqual(
        stored && [
          stored.event_id,
          stored.kind,
          stored.decision,
          stored.status_code,
          stored.latency_us,
          stored.reasons,
          stored.event,
        ],
        [r.eventId, 'outcome', null, 200, '123456', [], { orgId: ORG_A }],
      );
    });

    // BUG: latency_us is `integer` (max 2_147_483_647 µs, about 35.8 minutes) in
    // services/audit/migrations/001.do.init.sql but OutcomeEvent.latency_us is a uint32 (up to
    // ~71.6 minutes): a longer request (e.g. a long stream) fails to append with "integer out of
    // range", and since the consumer has max_deliver -1 the event is redelivered forever. Fix:
    // make latency_us (and status_code for symmetry) bigint in a new migration.
    it('appends an outcome whose latency exceeds 2^31-1 microseconds', async () => {
      assert.equal(
        await store.append(
          row(ORG_A, { kind: 'outcome', latencyUs: 2_500_000_000, requestId: 'req_long' }),
        ),
        true,
      );
    });
  });

  describe('tenant isolation', () => {
    it("queries only the org's own rows", async () => {
      const a = await store.query({ orgId: ORG_A, limit: 100 });
      assert.ok(a.length >= 2);
      assert.ok(a.every((r) => r.org_id === ORG_A));
      const b = await store.query({ orgId: ORG_B, limit: 100 });
      assert.deepEqual(
        b.map((r) => r.org_id),
        [ORG_B],
      );
    });

    it('filters within the org and pages newest first', async () => {
      const denied = await store.query({ orgId: ORG_A, decision: 'deny', limit: 10 });
      assert.deepEqual(
        denied.map((r) => r.request_id),
        ['req_denied'],
      );
      const [newest, ...rest] = await store.query({ orgId: ORG_A, limit: 100 });
      assert.ok(newest);
      const older = await store.query({ orgId: ORG_A, beforeOrgSeq: newest.org_seq, limit: 100 });
      assert.deepEqual(
        older.map((r) => r.org_seq),
        rest.map((r) => r.org_seq),
      );
      assert.deepEqual(
        [newest, ...rest].map((r) => Number(r.org_seq)),
        [newest, ...rest].map((_, i) => rest.length + 1 - i),
        'newest first, by chain position',
      );
    });

    it('refuses to INSERT an event for another org than app.org_id (WITH CHECK)', async () => {
      await assert.rejects(
        inTenant(pool, ORG_A, (db) =>
          db.query(
            "INSERT INTO events (event_id, org_id, kind, occurred_at, source, event) VALUES ($1, $2, 'decision', now(), 'edge', '{}')",
            [randomUUID(), ORG_B],
          ),
        ),
        /row-level security/,
      );
    });
  });

  describe('append-only', () => {
    const changes = [
      { name: 'UPDATE', sql: "UPDATE audit.events SET decision = 'allow' WHERE decision = 'deny'" },
      { name: 'DELETE', sql: "DELETE FROM audit.events WHERE request_id = 'req_denied'" },
      { name: 'TRUNCATE', sql: 'TRUNCATE audit.events' },
    ];

    for (const c of changes) {
      it(`refuses ${c.name} to the runtime role`, async () => {
        await assert.rejects(
          inTenant(pool, ORG_A, (db) => db.query(c.sql)),
          /permission denied|append-only/,
        );
      });

      it(`refuses ${c.name} to the superuser (the trigger fires for everyone)`, async () => {
        await assert.rejects(
          fx.admin.query(c.sql),
          new RegExp(`the audit log is append-only: ${c.name} refused`),
        );
      });

      it(`refuses ${c.name} to the schema owner`, async () => {
        const client = new pg.Client({ connectionString: fx.adminUrl });
        await client.connect();
        try {
          await client.query('SET ROLE fortress_audit_owner');
          await client.query("SELECT set_config('app.org_id', $1, false)", [ORG_A]);
          await assert.rejects(
            client.query(c.sql),
            new RegExp(`the audit log is append-only: ${c.name} refused`),
          );
        } finally {
          await client.end();
        }
      });
    }

    it('still holds every row after the attempts', async () => {
      const { rows } = await fx.admin.query<{ n: number }>(
        "SELECT count(*) FILTER (WHERE decision = 'deny')::int AS n FROM audit.events WHERE request_id = 'req_denied'",
      );
      assert.deepEqual(rows, [{ n: 1 }]);
    });
  });

  describe('rejected events', () => {
    it('keeps an event that cannot be a row, with its subject, reason and bytes', async () => {
      await store.reject({
        subject: 'audit.x.unknown',
        reason: 'no payload',
        payload: Buffer.from([1, 2, 3]),
      });
      const { rows } = await fx.admin.query<{ subject: string; reason: string; payload: Buffer }>(
        "SELECT subject, reason, payload FROM audit.rejected_events WHERE subject = 'audit.x.unknown'",
      );
      assert.deepEqual(rows, [
        { subject: 'audit.x.unknown', reason: 'no payload', payload: Buffer.from([1, 2, 3]) },
      ]);
    });
  });
});
