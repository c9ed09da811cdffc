import assert from 'node:assert/strict';
import { toBinary } from '@bufbuild/protobuf';
import { timestampFromDate, type Timestamp } from '@bufbuild/protobuf/wkt';
import type { Client } from '@connectrpc/connect';
import { createLogger } from '@fortress/kit/log';
import type { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type pg from 'pg';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import { createAuditStore } from '../../src/adapters/pg/audit-store.js';
import { createChainWriter } from '../../src/adapters/pg/chain-writer.js';
import { createExportSegmentRepo } from '../../src/adapters/pg/export-segment-repo.js';
import { createExportSettingsRepo } from '../../src/adapters/pg/export-settings-repo.js';
import { createRetentionRepo } from '../../src/adapters/pg/retention-repo.js';
import { createToolCallRepo } from '../../src/adapters/pg/tool-call-repo.js';
import { createUsageRepo } from '../../src/adapters/pg/usage-repo.js';
import { createBatchIngest, type IngestMessage } from '../../src/ingest/batch-ingest.js';
import { createAuditRpc } from '../../src/rpc/audit-service.js';
import { auditClient } from './audit-client.js';

/** The service's clock in the summary tests: mid-November, so the default window is Nov 1 to now. */
export const NOW = new Date('2026-11-16T12:00:00Z');
/** The explicit window of most cases. */
export const SINCE = '2026-10-10T00:00:00Z';
export const UNTIL = '2026-10-20T00:00:00Z';

/** A time as a protobuf Timestamp. */
export const ts = (iso: string): Timestamp => timestampFromDate(new Date(iso));

/**
 * Windows every usage summary refuses as invalid (the rules of usageWindow), with the field
 * each is blamed on, for a service clock of NOW.
 */
export const INVALID_WINDOWS = [
  { name: 'an empty window', window: { since: ts(SINCE), until: ts(SINCE) }, field: 'since' },
  { name: 'since after until', window: { since: ts(UNTIL), until: ts(SINCE) }, field: 'since' },
  {
    name: 'since after now with until open',
    window: { since: ts('2026-11-17T00:00:00Z') },
    field: 'since',
  },
  {
    name: 'until before the month start with since open',
    window: { until: ts('2026-10-31T00:00:00Z') },
    field: 'since',
  },
  { name: 'a since before 1970', window: { since: { seconds: -1n, nanos: 0 } }, field: 'since' },
  {
    name: 'an until past year 9999',
    window: { until: { seconds: 253_402_300_800n, nanos: 0 } },
    field: 'until',
  },
  {
    name: 'an until with out-of-range nanos',
    window: { until: { seconds: 1n, nanos: 1_000_000_000 } },
    field: 'until',
  },
];

/** The audit schema holding a set of events, and an AuditService client over it. */
export interface SummaryWorld {
  fx: PgFixture;
  /** The runtime role's pool (row-level security applies). */
  pool: pg.Pool;
  client: Client<typeof AuditService>;
}

/**
 * Starts PostgreSQL with the audit schema and writes `events` the way the JetStream consumer
 * does (wire bytes, one batch, acked after commit); the service's clock says NOW.
 */
export async function startSummaryWorld(events: EventEnvelope[]): Promise<SummaryWorld> {
  const fx = await startPgFixture(['audit']);
  const pool = fx.runtimePool('audit');
  const store = createAuditStore(pool);
  const impl = createAuditRpc({
    store,
    retention: createRetentionRepo(pool),
    usage: createUsageRepo(pool),
    toolCalls: createToolCallRepo(pool),
    exports: {
      settings: createExportSettingsRepo(pool),
      segments: createExportSegmentRepo(pool),
    },
    verify: () => Promise.reject(new Error('not used here')),
    now: () => NOW,
  });
  const writer = createChainWriter(pool);
  const ingest = createBatchIngest({
    append: (orgId, rows) => writer.append(orgId, rows),
    appendMany: (batches) => writer.appendMany(batches),
    reject: (e) => store.reject(e),
    concurrency: 2,
    logger: createLogger({ service: 'audit-test', level: 'silent' }),
  });
  const settled: string[] = [];
  await ingest(
    events.map((e): IngestMessage => ({
      subject: `audit.${e.orgId}.${e.payload.case ?? ''}`,
      data: toBinary(EventEnvelopeSchema, e),
      ack: () => void settled.push('ack'),
      nak: () => void settled.push('nak'),
    })),
  );
  assert.deepEqual(
    settled,
    events.map(() => 'ack'),
  );
  return { fx, pool, client: auditClient(impl) };
}
