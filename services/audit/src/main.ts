import { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { AUDIT_STREAM, connectEventBus } from '@fortress/kit/event-bus';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { createAuditStore } from './adapters/pg/audit-store.js';
import { auditConfig } from './config.js';
import { toAuditRow } from './domain/audit-row.js';
import { envelopeProblem } from './domain/validate-envelope.js';
import { createAuditRpc } from './rpc/audit-service.js';

const base = bootService('audit', auditConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createAuditStore(pool);
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  const appended = telemetry.meter.createCounter('fortress.audit.appended', {
    description: 'Audit rows written',
  });
  const duplicates = telemetry.meter.createCounter('fortress.audit.duplicates', {
    description: 'Redelivered or republished events already in the log',
  });
  const rejected = telemetry.meter.createCounter('fortress.audit.rejected', {
    description: 'Events kept in rejected_events because they cannot be audit rows',
  });
  // Ack only after the row is committed: a crash before the ack means redelivery, and the
  // unique event id makes the redelivery a no-op. An event that can never become a row is
  // kept with its reason rather than retried forever or dropped.
  const reject = async (subject: string, reason: string, payload: Uint8Array) => {
    await store.reject({ subject, reason, payload });
    rejected.add(1);
    logger.warn({ subject, reason }, 'kept an event that cannot be an audit row');
  };
  await bus.consume({
    stream: AUDIT_STREAM,
    durable: 'audit-writer',
    reject: (msg, reason) => reject(msg.subject, reason, msg.data),
    handle: async (envelope, msg) => {
      const problem = envelopeProblem(envelope);
      if (problem) return reject(msg.subject, problem, msg.data);
      const isNew = await store.append(toAuditRow(envelope));
      (isNew ? appended : duplicates).add(1);
    },
  });
  const served = await serveBackend(base, {
    routes: (router) => router.service(AuditService, createAuditRpc({ store })),
    readiness: { postgres: () => pgReady(pool), nats: () => bus.ready() },
  });
  return [telemetry.shutdown, () => pool.end(), bus.close, ...served];
});
