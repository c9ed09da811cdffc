import { readFile } from 'node:fs/promises';
import { AlertService } from '@fortress/proto/audit/v1/alert_pb';
import { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import { AUDIT_STREAM, connectEventBus } from '@fortress/kit/event-bus';
import { startBatchConsumer } from '@fortress/kit/event-batches';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { Secret } from '@fortress/kit/secret';
import { bootService } from '@fortress/kit/service';
import { loadSecretBox } from './adapters/keys/secret-box.js';
import { loadSigningKey, loadVerifyKeys } from './adapters/keys/signing-key.js';
import { createAuditStore } from './adapters/pg/audit-store.js';
import { createChainWriter } from './adapters/pg/chain-writer.js';
import { createCheckpointRepo } from './adapters/pg/checkpoint-repo.js';
import { createExportSegmentRepo } from './adapters/pg/export-segment-repo.js';
import { createExportSettingsRepo } from './adapters/pg/export-settings-repo.js';
import { createRetentionRepo } from './adapters/pg/retention-repo.js';
import { createToolCallRepo } from './adapters/pg/tool-call-repo.js';
import { createUsageRepo } from './adapters/pg/usage-repo.js';
import { createCheckpointStore } from './adapters/s3/checkpoint-store.js';
import {
  createSegmentStore,
  segmentErrorClass,
  type SegmentEncryption,
} from './adapters/s3/segment-store.js';
import type { SmtpOptions } from './adapters/smtp/mailer.js';
import { startAlerts } from './alerts/alert-runtime.js';
import { auditConfig } from './config.js';
import { createBatchIngest } from './ingest/batch-ingest.js';
import { createCheckpointer } from './jobs/checkpointer.js';
import { createRetentionJob } from './jobs/retention-job.js';
import { createSegmentExporter } from './jobs/segment-exporter.js';
import { createAuditRpc } from './rpc/audit-service.js';
import { verifyOrg } from './verify/verify-org.js';
import { createVerifySlots } from './verify/verify-slots.js';
import { startWebhooks } from './webhooks/webhook-runtime.js';

const base = bootService('audit', auditConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({
    url: config.FORTRESS_DATABASE_URL,
    service: base.name,
    max: config.FORTRESS_AUDIT_DB_POOL,
    // Verification and exports of large orgs read for longer than a request does.
    statementTimeoutMs: 60_000,
  });
  const key = await loadSigningKey(config.FORTRESS_AUDIT_SIGNING_KEY_FILE);
  const extraKeys = config.FORTRESS_AUDIT_VERIFY_KEY_FILES.split(',').filter(Boolean);
  const keys = new Map([...(await loadVerifyKeys(extraKeys)), [key.keyId, key.publicKey]]);
  const objectStore = {
    ...(config.FORTRESS_AUDIT_S3_ENDPOINT ? { endpoint: config.FORTRESS_AUDIT_S3_ENDPOINT } : {}),
    region: config.FORTRESS_AUDIT_S3_REGION,
  };
  const copies = createCheckpointStore({ ...objectStore, bucket: config.FORTRESS_AUDIT_S3_BUCKET });
  const encryption: SegmentEncryption =
    config.FORTRESS_AUDIT_EXPORT_SSE === 'aws:kms'
      ? {
          mode: 'aws:kms',
          ...(config.FORTRESS_AUDIT_EXPORT_KMS_KEY_ID
            ? { kmsKeyId: config.FORTRESS_AUDIT_EXPORT_KMS_KEY_ID }
            : {}),
        }
      : { mode: config.FORTRESS_AUDIT_EXPORT_SSE };
  const segmentStore = createSegmentStore({
    ...objectStore,
    bucket: config.FORTRESS_AUDIT_EXPORT_BUCKET ?? config.FORTRESS_AUDIT_S3_BUCKET,
    encryption,
  });
  const segments = createExportSegmentRepo(pool);
  // The exporter holds a segment's row lock (and so a connection) while it writes the object:
  // it gets connections of its own, so a slow object store can never starve ingestion.
  const EXPORT_CONNECTIONS = 2;
  const exportPool = createPool({
    url: config.FORTRESS_DATABASE_URL,
    service: `${base.name}-export`,
    max: EXPORT_CONNECTIONS,
    statementTimeoutMs: 60_000,
  });
  const store = createAuditStore(pool);
  const writer = createChainWriter(pool);
  const retention = createRetentionRepo(pool);
  const meter = telemetry.meter;
  const appended = meter.createCounter('fortress.audit.appended', {
    description: 'Audit rows written',
  });
  const duplicates = meter.createCounter('fortress.audit.duplicates', {
    description: 'Redelivered or republished events already in the log',
  });
  const rejected = meter.createCounter('fortress.audit.rejected', {
    description: 'Events kept in rejected_events because they cannot be audit rows',
  });
  const signed = meter.createCounter('fortress.audit.checkpoints', {
    description: 'Checkpoints signed',
  });
  const webhookAttempts = meter.createCounter('fortress.webhooks.attempts', {
    description: 'Webhook delivery attempts, by outcome (delivered, retry, failed)',
  });
  const batchSize = meter.createHistogram('fortress.audit.batch_size', {
    description: 'Events handled per consumer batch',
  });
  const exported = meter.createCounter('fortress.audit.export_segments', {
    description: 'Export segment writes, by outcome (written, failed)',
  });

  // The continuous export: spans queued by checkpoints, written to the object store.
  const exporter = createSegmentExporter({
    repo: createExportSegmentRepo(exportPool),
    concurrency: EXPORT_CONNECTIONS,
    store: segmentStore,
    classify: segmentErrorClass,
    intervalMs: config.FORTRESS_AUDIT_EXPORT_RETRY_MS,
    timeoutMs: config.FORTRESS_AUDIT_EXPORT_TIMEOUT_MS,
    logger,
    onSegment: (outcome) => exported.add(1, { outcome }),
  });

  const checkpointer = createCheckpointer({
    repo: createCheckpointRepo(pool, { segmentMax: config.FORTRESS_AUDIT_EXPORT_SEGMENT_MAX }),
    key,
    publish: (cp) => copies.put(cp),
    every: config.FORTRESS_AUDIT_CHECKPOINT_EVERY,
    intervalMs: config.FORTRESS_AUDIT_CHECKPOINT_INTERVAL_MS,
    logger,
    onCheckpoint: (cp) => {
      signed.add(1, { kind: cp.kind });
      // Its span (if the org exports it) was queued with it: write it now, off this path.
      exporter.nudge(cp.orgId);
    },
  });
  const ingest = createBatchIngest({
    append: (orgId, rows) => writer.append(orgId, rows),
    appendMany: (batches) => writer.appendMany(batches),
    reject: (e) => store.reject(e),
    concurrency: Math.max(1, config.FORTRESS_AUDIT_DB_POOL - 2),
    logger,
    onAppended: (orgId, r) => {
      appended.add(r.appended.length);
      if (r.duplicates.length) duplicates.add(r.duplicates.length);
      checkpointer.nudge(orgId, r.head.seq - r.checkpointSeq);
    },
    onRejected: () => rejected.add(1),
  });

  // The bus makes sure the stream exists and reports NATS readiness; events are consumed in
  // batches on a connection of their own. Ack only after commit: a crash before the ack
  // means redelivery, and the event id makes the redelivery a no-op.
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  const consumer = await startBatchConsumer({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
    stream: AUDIT_STREAM,
    durable: 'audit-writer',
    maxBatch: config.FORTRESS_AUDIT_BATCH_MAX,
    maxAckPending: config.FORTRESS_AUDIT_BATCH_MAX * 4,
    handle: async (batch) => {
      batchSize.record(batch.length);
      await ingest(batch);
    },
  });
  checkpointer.start();
  exporter.start();
  void exporter.tick();
  meter
    .createObservableGauge('fortress.audit.consumer_lag', {
      description: 'Events in the stream not yet written: undelivered plus unacknowledged',
    })
    .addCallback(async (result) => {
      const lag = await consumer.lag().catch(() => undefined);
      if (lag) result.observe(lag.pending + lag.ackPending);
    });
  const retentionJob = createRetentionJob({
    repo: retention,
    key,
    publish: (cp) => copies.put(cp),
    chunk: 10_000,
    logger,
  });
  const applyRetention = () =>
    void retentionJob.run().then((report) => {
      if (Object.keys(report).length) logger.info({ deleted: report }, 'retention applied');
    });
  applyRetention();
  const retentionTimer = setInterval(applyRetention, config.FORTRESS_AUDIT_RETENTION_INTERVAL_MS);
  retentionTimer.unref();

  // Webhooks (S9): notifications fanned out to subscriptions, delivered through BullMQ.
  const webhooks = await startWebhooks({
    pool,
    bus,
    redisUrl: config.FORTRESS_REDIS_URL,
    box: await loadSecretBox(config.FORTRESS_AUDIT_WEBHOOK_KEY_FILES.split(',').filter(Boolean)),
    mode: config.FORTRESS_AUDIT_WEBHOOK_MODE,
    attempts: config.FORTRESS_AUDIT_WEBHOOK_ATTEMPTS,
    backoffMs: config.FORTRESS_AUDIT_WEBHOOK_BACKOFF_MS,
    timeoutMs: config.FORTRESS_AUDIT_WEBHOOK_TIMEOUT_MS,
    concurrency: config.FORTRESS_AUDIT_WEBHOOK_CONCURRENCY,
    sweepAfterMs: config.FORTRESS_AUDIT_WEBHOOK_SWEEP_AFTER_MS,
    sweepIntervalMs: config.FORTRESS_AUDIT_WEBHOOK_SWEEP_INTERVAL_MS,
    redisTimeoutMs: config.FORTRESS_REDIS_TIMEOUT_MS,
    logger,
    onAttempt: (outcome) => webhookAttempts.add(1, { outcome }),
  });
  meter
    .createObservableGauge('fortress.webhooks.queue_depth', {
      description: 'Webhook delivery jobs waiting, delayed or running',
    })
    .addCallback(async (result) => {
      const depth = await webhooks.depth().catch(() => undefined);
      if (depth !== undefined) result.observe(depth);
    });

  // Alerts (S9): emails through the SMTP relay for alert notifications; anomaly detection.
  const smtp: SmtpOptions | undefined = config.FORTRESS_AUDIT_SMTP_HOST
    ? {
        host: config.FORTRESS_AUDIT_SMTP_HOST,
        port: config.FORTRESS_AUDIT_SMTP_PORT,
        tls: config.FORTRESS_AUDIT_SMTP_TLS,
        from: config.FORTRESS_AUDIT_SMTP_FROM ?? '',
        timeoutMs: config.FORTRESS_AUDIT_SMTP_TIMEOUT_MS,
        ...(config.FORTRESS_AUDIT_SMTP_USER && config.FORTRESS_AUDIT_SMTP_PASSWORD_FILE
          ? {
              user: config.FORTRESS_AUDIT_SMTP_USER,
              password: new Secret(
                (await readFile(config.FORTRESS_AUDIT_SMTP_PASSWORD_FILE, 'utf8')).trim(),
              ),
            }
          : {}),
      }
    : undefined;
  const alertEmails = meter.createCounter('fortress.alerts.emails', {
    description: 'Alert email attempts, by outcome (sent, retry, failed)',
  });
  const alerts = await startAlerts({
    pool,
    bus,
    redisUrl: config.FORTRESS_REDIS_URL,
    smtp,
    attempts: config.FORTRESS_AUDIT_ALERT_ATTEMPTS,
    backoffMs: config.FORTRESS_AUDIT_ALERT_BACKOFF_MS,
    concurrency: config.FORTRESS_AUDIT_ALERT_CONCURRENCY,
    sweepAfterMs: config.FORTRESS_AUDIT_ALERT_SWEEP_AFTER_MS,
    sweepIntervalMs: config.FORTRESS_AUDIT_ALERT_SWEEP_INTERVAL_MS,
    redisTimeoutMs: config.FORTRESS_REDIS_TIMEOUT_MS,
    anomalyIntervalMs: config.FORTRESS_AUDIT_ANOMALY_INTERVAL_MS,
    publishTimeoutMs: 10_000,
    logger,
    onAttempt: (outcome) => alertEmails.add(1, { outcome }),
  });
  meter
    .createObservableGauge('fortress.alerts.queue_depth', {
      description: 'Alert email jobs waiting, delayed or running',
    })
    .addCallback(async (result) => {
      const depth = await alerts.depth().catch(() => undefined);
      if (depth !== undefined) result.observe(depth);
    });

  const verifySlot = createVerifySlots(config.FORTRESS_AUDIT_VERIFY_CONCURRENCY);
  const served = await serveBackend(base, {
    routes: (router) => {
      router.service(
        AuditService,
        createAuditRpc({
          store,
          retention,
          usage: createUsageRepo(pool),
          toolCalls: createToolCallRepo(pool),
          verify: (orgId, signal) =>
            verifySlot(signal, () => verifyOrg({ pool, objectStore: copies, keys }, orgId, signal)),
          exports: { settings: createExportSettingsRepo(pool), segments },
          logger,
        }),
      );
      router.service(WebhookService, webhooks.rpc);
      router.service(AlertService, alerts.rpc);
    },
    readiness: {
      postgres: () => pgReady(pool),
      nats: async () => (await bus.ready()) && (await consumer.ready()),
      redis: () => webhooks.ready(),
    },
  });
  return [
    telemetry.shutdown,
    () => pool.end(),
    () => exportPool.end(),
    () => copies.close(),
    () => segmentStore.close(),
    bus.close,
    () => clearInterval(retentionTimer),
    // Closed in reverse: the checkpointer first, since a checkpoint in flight nudges the exporter.
    () => exporter.stop(),
    () => checkpointer.stop(),
    () => consumer.close(),
    () => webhooks.close(),
    () => alerts.close(),
    ...served,
  ];
});
