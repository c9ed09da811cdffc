import { chmod, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CreateKeyCommand, DescribeKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { dbNames, provisionService } from '@fortress/kit/db-provision';
import { startFakeAnthropic, type FakeAnthropic } from '@fortress/sandbox/anthropic/server';
import { startKmsServer, type KmsServer } from '@fortress/sandbox/kms/server';
import { ensureCerts } from '../certs/certs.js';
import { startNats, type NatsHandle } from '../infra/nats.js';
import { startPostgres, type PostgresHandle } from '../infra/postgres.js';
import { startRedis, type RedisHandle } from '../infra/redis.js';
import { startSmtpSink, type SmtpSink } from '../infra/smtp-sink.js';
import { ensureAuditKeys, ensureWebhookKey } from './audit-keys.js';
import { ensureDecisionKeys } from './decision-keys.js';
import { ensureSessionSigningKey } from './session-keys.js';
import { startObjectStore, type ObjectStore } from './object-store.js';
import { operatorClients, type OperatorClients } from './operator-clients.js';
import { REPO_ROOT } from './paths.js';
import { loadStackSecrets, saveStackSecrets } from './secrets-file.js';
import { startServiceProcess, type ServiceProcess } from './service-process.js';

/** The services behind the edge, each with its own schema. */
export const BACKEND_SERVICES = [
  'identity',
  'posture',
  'policy',
  'vault',
  'audit',
  'billing',
] as const;
/** Every service, the edge last. */
export const SERVICES = [...BACKEND_SERVICES, 'edge'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** Credentials the local KMS accepts (it checks the shape of SigV4, not the signature). */
const KMS_CREDENTIALS = {
  accessKeyId: 'fortress-local',
  secretAccessKey: 'fortress-local-not-secret',
};
const DATABASE = 'fortress';
/** The owner of the local customer KMS account (tests create Bank / Zero Trust keys and grants). */
export const CUSTOMER_KMS_CREDENTIALS = {
  accessKeyId: 'customer-local',
  secretAccessKey: 'customer-local-not-secret',
};
/** The bucket audit writes checkpoint copies to. */
export const AUDIT_BUCKET = 'fortress-audit';
/** The bucket of the PAT request/response archive. */
export const ARCHIVE_BUCKET = 'fortress-archive';

/** Options of a whole local Fortress. */
export interface StackOptions {
  /** Everything lives here: database, streams, certificates, keys, logs. Reused on restart. */
  dataDir: string;
  /** Trade durability for speed (tests). */
  fast?: boolean;
  /** The edge's port; 0 picks a free one. */
  edgePort?: number;
  otlpTracesUrl?: string;
  logLevel?: string;
  /** Extra environment per service (e.g. shorter timeouts in tests). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  onProgress?: (step: string) => void;
}

/** A running local Fortress. */
export interface Stack {
  dataDir: string;
  tlsDir: string;
  postgres: PostgresHandle;
  redis: RedisHandle;
  nats: NatsHandle;
  kms: KmsServer;
  /** A second KMS account standing for a customer's own (Bank and Zero Trust keys, grants). */
  customerKms: KmsServer;
  /** The vault's principal: what a customer's grant names as grantee. */
  vaultKmsPrincipal: string;
  /** The S3-compatible object store (audit checkpoint copies in AUDIT_BUCKET). */
  objectStore: ObjectStore;
  /** The public key that verifies audit checkpoints (for the verify command). */
  auditVerifyKeyFile: string;
  /** The SMTP relay audit sends alert emails to: a sink that keeps them (and writes `mail/*.eml`). */
  mail: SmtpSink;
  sandbox: FakeAnthropic;
  sandboxAnthropicKey: string;
  /** A second key the sandbox accepts (for rotations). */
  sandboxRotationKey: string;
  services: Record<ServiceName, ServiceProcess>;
  edgeUrl: string;
  /** https://127.0.0.1:port of each backend service. */
  urls: Record<string, string>;
  /** Clients with the operator's certificate (seeding, tests). */
  operator: OperatorClients;
  /** Superuser URL of the fortress database (tests that inspect rows). */
  adminDatabaseUrl: string;
  /** Starts one more process of a backend service with the same configuration (free ports). */
  /** Another replica of a service (the edge's listens on its own HTTP port). */
  startReplica(name: ServiceName, env?: Record<string, string>): Promise<ServiceProcess>;
  stop(): Promise<void>;
}

/** Makes sure the service-managed KMS key exists; returns its id. */
async function ensureServiceKey(kmsUrl: string, known: string | undefined): Promise<string> {
  const kms = new KMSClient({
    region: 'us-east-1',
    endpoint: kmsUrl,
    credentials: KMS_CREDENTIALS,
  });
  try {
    if (known) {
      const described = await kms
        .send(new DescribeKeyCommand({ KeyId: known }))
        .catch(() => undefined);
      if (described?.KeyMetadata?.Enabled) return known;
    }
    const created = await kms.send(
      new CreateKeyCommand({ Description: 'fortress service-managed key (SOHO)' }),
    );
    const id = created.KeyMetadata?.KeyId;
    if (!id) throw new Error('local KMS did not return a key id');
    return id;
  } finally {
    kms.destroy();
  }
}

/**
 * Starts everything Fortress needs on loopback, in dependency order: PostgreSQL, Redis, NATS
 * with JetStream, the KMS-compatible endpoint and the sandbox Anthropic API; certificates,
 * keys and database roles; migrations; then the six backend services and the edge, each its
 * own process. Starting again on the same directory reuses all state.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const dataDir = resolve(options.dataDir);
  const progress = options.onProgress ?? (() => undefined);
  const dirs = {
    pg: join(dataDir, 'postgres'),
    redis: join(dataDir, 'redis'),
    nats: join(dataDir, 'nats'),
    kms: join(dataDir, 'kms'),
    s3: join(dataDir, 's3'),
    tls: join(dataDir, 'tls'),
    keys: join(dataDir, 'keys'),
    logs: join(dataDir, 'logs'),
    mail: join(dataDir, 'mail'),
  };
  // Traversable (not listable) by others: PostgreSQL runs as its own user and must reach its
  // data directory inside. Everything secret below is owner-only.
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  await chmod(dataDir, 0o711);
  await Promise.all(
    Object.entries(dirs)
      .filter(([name]) => name !== 'pg')
      .map(([, d]) => mkdir(d, { recursive: true, mode: 0o700 })),
  );
  const started: Array<{ stop(): Promise<void> }> = [];
  let stopping: Promise<void> | undefined;
  /** Stops everything in reverse start order; calling it again waits for the same stop. */
  const stopAll = () =>
    (stopping ??= (async () => {
      for (const s of [...started].reverse()) await s.stop().catch(() => undefined);
    })());

  try {
    progress('starting PostgreSQL, Redis and NATS JetStream');
    const [postgres, redis, nats] = await Promise.all([
      startPostgres({ dataDir: dirs.pg, fast: options.fast ?? false }),
      startRedis({ dataDir: dirs.redis }),
      startNats({ dataDir: dirs.nats }),
    ]);
    started.push(postgres, redis, nats);

    progress('preparing certificates, keys and secrets');
    await ensureCerts({ dir: dirs.tls, services: [...SERVICES, 'operator'] });
    const decisionKeys = await ensureDecisionKeys(dirs.keys);
    const auditKeys = await ensureAuditKeys(dirs.keys);
    const webhookKeyFile = await ensureWebhookKey(dirs.keys);
    const sessionSigningKeyFile = await ensureSessionSigningKey(dirs.keys);
    const secretsFile = join(dataDir, 'secrets.json');
    const secrets = await loadStackSecrets(secretsFile, BACKEND_SERVICES);

    progress('starting the KMS endpoint and the sandbox Anthropic API');
    const kms = await startKmsServer({ stateFile: join(dirs.kms, 'state.json') });
    started.push({ stop: () => kms.close() });
    const vaultKmsPrincipal = `arn:aws:iam::${kms.accountId}:role/fortress-vault`;
    const customerKms = await startKmsServer({
      stateFile: join(dirs.kms, 'customer-state.json'),
      ownerAccessKeyId: CUSTOMER_KMS_CREDENTIALS.accessKeyId,
      principals: { [KMS_CREDENTIALS.accessKeyId]: vaultKmsPrincipal },
    });
    started.push({ stop: () => customerKms.close() });
    secrets.kmsServiceKeyId = await ensureServiceKey(kms.url, secrets.kmsServiceKeyId);
    await saveStackSecrets(secretsFile, secrets);
    const sandbox = await startFakeAnthropic({
      apiKeys: [secrets.sandboxAnthropicKey, secrets.sandboxRotationKey],
    });
    started.push({ stop: () => sandbox.close() });
    const objectStore = await startObjectStore({
      dir: dirs.s3,
      buckets: [AUDIT_BUCKET, ARCHIVE_BUCKET],
    });
    started.push(objectStore);
    const mail = await startSmtpSink({ dir: dirs.mail });
    started.push({ stop: () => mail.close() });

    progress('migrating the database');
    await postgres.createDatabase(DATABASE);
    const adminDatabaseUrl = postgres.superuserUrl.replace(/\/postgres(\?|$)/, `/${DATABASE}$1`);
    for (const service of BACKEND_SERVICES) {
      await provisionService({
        adminUrl: adminDatabaseUrl,
        service,
        runtimePassword: secrets.dbPasswords[service] ?? '',
        migrationsDir: join(REPO_ROOT, 'services', service, 'migrations'),
      });
    }

    progress('starting identity, posture, policy, vault, audit and billing');
    const common = {
      FORTRESS_TLS_DIR: dirs.tls,
      FORTRESS_LOG_LEVEL: options.logLevel ?? 'info',
      ...(options.otlpTracesUrl ? { FORTRESS_OTLP_TRACES_URL: options.otlpTracesUrl } : {}),
    };
    const dbUrl = (service: string) =>
      postgres.url(dbNames(service).runtime, secrets.dbPasswords[service] ?? '', DATABASE);
    const envFor: Record<(typeof BACKEND_SERVICES)[number], Record<string, string>> = {
      identity: {
        FORTRESS_DATABASE_URL: dbUrl('identity'),
        FORTRESS_SESSION_SIGNING_KEY_FILE: sessionSigningKeyFile,
        FORTRESS_NATS_URL: nats.url,
      },
      posture: { FORTRESS_DATABASE_URL: dbUrl('posture') },
      policy: {
        FORTRESS_DATABASE_URL: dbUrl('policy'),
        FORTRESS_DECISION_KEY_FILE: decisionKeys.privateKeyFile,
        FORTRESS_NATS_URL: nats.url,
        FORTRESS_REDIS_URL: redis.url,
      },
      vault: {
        FORTRESS_DATABASE_URL: dbUrl('vault'),
        FORTRESS_DECISION_PUBLIC_KEY_FILE: decisionKeys.publicKeyFile,
        FORTRESS_KMS_ENDPOINT: kms.url,
        FORTRESS_KMS_KEY_ID: secrets.kmsServiceKeyId,
        FORTRESS_KMS_ALLOWED_ENDPOINTS: customerKms.url,
        FORTRESS_KMS_PRINCIPAL: vaultKmsPrincipal,
        FORTRESS_NATS_URL: nats.url,
        AWS_ACCESS_KEY_ID: KMS_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: KMS_CREDENTIALS.secretAccessKey,
      },
      audit: {
        FORTRESS_DATABASE_URL: dbUrl('audit'),
        FORTRESS_NATS_URL: nats.url,
        FORTRESS_AUDIT_SIGNING_KEY_FILE: auditKeys.signingKeyFile,
        FORTRESS_AUDIT_S3_ENDPOINT: objectStore.url,
        FORTRESS_AUDIT_S3_REGION: objectStore.region,
        FORTRESS_AUDIT_S3_BUCKET: AUDIT_BUCKET,
        FORTRESS_REDIS_URL: redis.url,
        FORTRESS_AUDIT_WEBHOOK_KEY_FILES: webhookKeyFile,
        // Local receivers (http on loopback) are what a developer points webhooks at.
        FORTRESS_AUDIT_WEBHOOK_MODE: 'development',
        // Alert emails go to the local sink (plain SMTP on loopback).
        FORTRESS_AUDIT_SMTP_HOST: mail.host,
        FORTRESS_AUDIT_SMTP_PORT: String(mail.port),
        FORTRESS_AUDIT_SMTP_TLS: 'none',
        FORTRESS_AUDIT_SMTP_FROM: 'Fortress Alerts <alerts@fortress.local>',
        AWS_ACCESS_KEY_ID: objectStore.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: objectStore.credentials.secretAccessKey,
      },
      billing: { FORTRESS_DATABASE_URL: dbUrl('billing'), FORTRESS_NATS_URL: nats.url },
    };
    const startBackend = async (
      name: (typeof BACKEND_SERVICES)[number],
      extra: Record<string, string> = {},
    ) => {
      const proc = await startServiceProcess({
        name,
        logDir: dirs.logs,
        env: { ...common, ...envFor[name], ...options.serviceEnv?.[name], ...extra },
      });
      started.push(proc);
      return proc;
    };
    const backends = await Promise.all(
      BACKEND_SERVICES.map(async (name) => [name, await startBackend(name)] as const),
    );
    const services = Object.fromEntries(backends) as Record<ServiceName, ServiceProcess>;
    const urls = Object.fromEntries(
      backends.map(([name, p]) => [name, `https://127.0.0.1:${p.ports.grpcPort}`]),
    );

    progress('starting the edge');
    const startEdge = async (extra: Record<string, string> = {}) => {
      const proc = await startServiceProcess({
        name: 'edge',
        logDir: dirs.logs,
        env: {
          ...common,
          FORTRESS_EDGE_PORT: String(options.edgePort ?? 0),
          FORTRESS_IDENTITY_URL: urls['identity'] ?? '',
          FORTRESS_POSTURE_URL: urls['posture'] ?? '',
          FORTRESS_POLICY_URL: urls['policy'] ?? '',
          FORTRESS_VAULT_URL: urls['vault'] ?? '',
          FORTRESS_AUDIT_URL: urls['audit'] ?? '',
          FORTRESS_BILLING_URL: urls['billing'] ?? '',
          FORTRESS_NATS_URL: nats.url,
          FORTRESS_ARCHIVE_S3_ENDPOINT: objectStore.url,
          FORTRESS_ARCHIVE_S3_REGION: objectStore.region,
          FORTRESS_ARCHIVE_S3_BUCKET: ARCHIVE_BUCKET,
          FORTRESS_ARCHIVE_SPOOL_DIR: join(dataDir, 'archive-spool'),
          AWS_ACCESS_KEY_ID: objectStore.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: objectStore.credentials.secretAccessKey,
          FORTRESS_ANTHROPIC_BASE_URL: sandbox.url,
          // The sandbox SaaS and upstream MCP fakes listen on loopback over http.
          FORTRESS_CONNECTOR_NETWORK: 'development',
          ...options.serviceEnv?.edge,
          ...extra,
        },
      });
      started.push(proc);
      return proc;
    };
    services.edge = await startEdge();

    return {
      dataDir,
      tlsDir: dirs.tls,
      postgres,
      redis,
      nats,
      kms,
      customerKms,
      vaultKmsPrincipal,
      objectStore,
      auditVerifyKeyFile: auditKeys.verifyKeyFile,
      mail,
      sandbox,
      sandboxAnthropicKey: secrets.sandboxAnthropicKey,
      sandboxRotationKey: secrets.sandboxRotationKey,
      services,
      get edgeUrl() {
        return `http://127.0.0.1:${services.edge.ports.httpPort}`;
      },
      urls,
      operator: operatorClients(dirs.tls, urls),
      adminDatabaseUrl,
      startReplica: (name, env = {}) =>
        name === 'edge'
          ? startEdge({ ...env, FORTRESS_EDGE_PORT: '0', FORTRESS_OPS_PORT: '0' })
          : startBackend(name, { ...env, FORTRESS_GRPC_PORT: '0', FORTRESS_OPS_PORT: '0' }),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
