import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { ensureAuditKeys } from '@fortress/harness/stack/audit-keys';
import { startObjectStore, type ObjectStore } from '@fortress/harness/stack/object-store';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import { createChainWriter, type ChainWriter } from '../../src/adapters/pg/chain-writer.js';
import {
  createCheckpointRepo,
  type CheckpointRepo,
} from '../../src/adapters/pg/checkpoint-repo.js';
import {
  createExportSegmentRepo,
  type ExportSegmentRepo,
} from '../../src/adapters/pg/export-segment-repo.js';
import {
  createExportSettingsRepo,
  type ExportSettingsRepo,
} from '../../src/adapters/pg/export-settings-repo.js';
import { loadSigningKey, loadVerifyKeys } from '../../src/adapters/keys/signing-key.js';
import {
  createCheckpointStore,
  type CheckpointStore,
} from '../../src/adapters/s3/checkpoint-store.js';
import {
  createSegmentStore,
  segmentErrorClass,
  type SegmentStore,
} from '../../src/adapters/s3/segment-store.js';
import type { AuditRow } from '../../src/domain/audit-row.js';
import { signCheckpoint, type SigningKey } from '../../src/domain/checkpoint.js';
import { createSegmentExporter } from '../../src/jobs/segment-exporter.js';
import { createLogger } from '@fortress/kit/log';
import { verifyOrg, type VerifyDeps } from '../../src/verify/verify-org.js';

export const BUCKET = 'fortress-audit-test';

/** PostgreSQL with the audit schema, an object store, a key pair, and the audit adapters. */
export interface AuditFixture {
  pg: PgFixture;
  pool: pg.Pool;
  objectStore: ObjectStore;
  copies: CheckpointStore;
  key: SigningKey;
  verifyDeps: VerifyDeps;
  writer: ChainWriter;
  checkpoints: CheckpointRepo;
  /** The export: settings, the outbox of owed segments, and the object store side. */
  exportSettings: ExportSettingsRepo;
  segments: ExportSegmentRepo;
  segmentStore: SegmentStore;
  /** Checkpoints the org's head now (object store first, then the database). */
  checkpoint(orgId: string): Promise<void>;
  /** Writes the export segments the org owes, through `store` (the fixture's by default). */
  exportOwed(orgId: string, store?: Pick<SegmentStore, 'put'>): Promise<void>;
  verify(orgId: string): ReturnType<typeof verifyOrg>;
  stop(): Promise<void>;
}

/** Starts everything an audit integration test needs; stop it in `after`. */
export async function startAuditFixture(): Promise<AuditFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'fortress-audit-test-'));
  const pgFx = await startPgFixture(['audit']);
  const objectStore = await startObjectStore({ dir: join(dir, 's3'), buckets: [BUCKET] });
  const keys = await ensureAuditKeys(join(dir, 'keys'));
  const key = await loadSigningKey(keys.signingKeyFile);
  const pool = pgFx.runtimePool('audit');
  const copies = createCheckpointStore({
    endpoint: objectStore.url,
    region: objectStore.region,
    bucket: BUCKET,
    credentials: objectStore.credentials,
  });
  const verifyDeps: VerifyDeps = {
    pool,
    objectStore: copies,
    keys: await loadVerifyKeys([keys.verifyKeyFile]),
  };
  const checkpoints = createCheckpointRepo(pool);
  const segments = createExportSegmentRepo(pool);
  const segmentStore = createSegmentStore({
    endpoint: objectStore.url,
    region: objectStore.region,
    bucket: BUCKET,
    credentials: objectStore.credentials,
    encryption: { mode: 'AES256' },
  });
  return {
    pg: pgFx,
    pool,
    objectStore,
    copies,
    key,
    verifyDeps,
    writer: createChainWriter(pool),
    checkpoints,
    exportSettings: createExportSettingsRepo(pool),
    segments,
    segmentStore,
    async checkpoint(orgId) {
      await checkpoints.checkpoint(
        orgId,
        (org, point, at) => signCheckpoint(key, 'periodic', org, point, at),
        (cp) => copies.put(cp),
      );
    },
    exportOwed: (orgId, store = segmentStore) =>
      createSegmentExporter({
        repo: segments,
        store,
        classify: segmentErrorClass,
        intervalMs: 3_600_000,
        timeoutMs: 10_000,
        logger: createLogger({ service: 'audit-test', level: 'silent' }),
      }).run(orgId),
    verify: (orgId) => verifyOrg(verifyDeps, orgId),
    async stop() {
      copies.close();
      segmentStore.close();
      await objectStore.stop();
      await pgFx.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A decision row of `orgId`, distinct per call. */
export function auditRow(orgId: string, n: number, overrides: Partial<AuditRow> = {}): AuditRow {
  const requestId = `req_${n}`;
  return {
    eventId: randomUUID(),
    orgId,
    kind: 'decision',
    occurredAt: new Date(Date.UTC(2026, 10, 22, 12, 0, 0, n)),
    source: 'edge',
    product: 'pat',
    actor: { kind: 'PRINCIPAL_KIND_ORG_KEY', subjectId: 'key_1', apiKeyId: 'key_1' },
    action: 'pat:messages.create',
    resource: 'model:claude-haiku-4-5',
    decision: n % 3 === 0 ? 'deny' : 'allow',
    reasons: [{ code: 'allowed', message: 'allowed by role grant', ruleId: 'role:dev' }],
    latencyUs: 500 + n,
    statusCode: null,
    requestId,
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    event: { orgId, decision: { requestId, nested: { list: [1, 2.5, 'x'], flag: true } } },
    ...overrides,
  };
}
