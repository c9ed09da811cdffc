import assert from 'node:assert/strict';
import { toBinary } from '@bufbuild/protobuf';
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
import { createRetentionRepo } from '../../src/adapters/pg/retention-repo.js';
import { createToolCallRepo } from '../../src/adapters/pg/tool-call-repo.js';
import { createUsageRepo } from '../../src/adapters/pg/usage-repo.js';
import { createBatchIngest, type IngestMessage } from '../../src/ingest/batch-ingest.js';
import { createAuditRpc } from '../../src/rpc/audit-service.js';
import { auditClient } from './audit-client.js';

/** The audit schema holding a set of events, and an AuditService client over it. */
export interface SummaryWorld {
  fx: PgFixture;
  /** The runtime role's pool (row-level security applies). */
  pool: pg.Pool;
  client: Client<typeof AuditService>;
}

/**
 * Starts PostgreSQL with the audit schema and writes `events` the way the JetStream consumer
 * does (wire bytes, one batch, acked after commit); the service's clock says `now`, which
 * places a window left open.
 */
export async function startSummaryWorld(events: EventEnvelope[], now: Date): Promise<SummaryWorld> {
  const fx = await startPgFixture(['audit']);
  const pool = fx.runtimePool('audit');
  const store = createAuditStore(pool);
  const impl = createAuditRpc({
    store,
    retention: createRetentionRepo(pool),
    usage: createUsageRepo(pool),
    toolCalls: createToolCallRepo(pool),
    verify: () => Promise.reject(new Error('not used here')),
    now: () => now,
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
