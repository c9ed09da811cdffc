import { AuditService } from '@fortress/proto/audit/v1/audit_pb';
import { WebhookService } from '@fortress/proto/audit/v1/webhook_pb';
import { AlertService } from '@fortress/proto/audit/v1/alert_pb';
import { BillingService } from '@fortress/proto/billing/v1/billing_pb';
import { IdentityAdminService, IdentityService } from '@fortress/proto/identity/v1/identity_pb';
import { PolicyAdminService, PolicyService } from '@fortress/proto/policy/v1/policy_pb';
import { PostureService } from '@fortress/proto/posture/v1/posture_pb';
import { Product } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { VaultAdminService, VaultService } from '@fortress/proto/vault/v1/vault_pb';
import { connectNats } from '@fortress/kit/nats-connection';
import { connectEventBus, envelope } from '@fortress/kit/event-bus';
import { timestampNow } from '@bufbuild/protobuf/wkt';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { announceReady, runService } from '@fortress/kit/lifecycle';
import { startOpsServer } from '@fortress/kit/ops-server';
import type { DescService } from '@bufbuild/protobuf';
import { createGrpcServiceClient } from '@fortress/kit/grpc-client';
import { createServiceClient } from '@fortress/kit/rpc-client';
import { bootService } from '@fortress/kit/service';
import { LATENCY_BUCKETS_MS } from '@fortress/kit/telemetry';
import { loadPriceBook } from '@fortress/pricing/price-book';
import { createAdminApi } from './admin/admin-api.js';
import { createAdminRpc } from './admin/admin-rpc.js';
import { createApprovalGate } from './admin/approval-routes.js';
import { openApprovalStore } from './admin/approval-store.js';
import { createArchiveRoutes } from './admin/archive-routes.js';
import { createAuditRoutes } from './admin/audit-routes.js';
import { createBillingRoutes } from './admin/billing-routes.js';
import { createIdpRoutes } from './admin/idp-routes.js';
import { createUserRoutes } from './admin/user-routes.js';
import { createMeteringRoutes } from './admin/metering-routes.js';
import { createWebhookRoutes } from './admin/webhook-routes.js';
import { createAlertRoutes } from './admin/alert-routes.js';
import { createArchiveKeys } from './archive/archive-keys.js';
import { createArchiveStore } from './archive/archive-store.js';
import { createArchiveWriter } from './archive/archive-writer.js';
import { openIdempotencyStore } from './admin/idempotency.js';
import { createOrgKeyRoutes } from './admin/org-keys.js';
import { createPatKeyRoutes } from './admin/pat-keys.js';
import { createSessionRoutes } from './admin/session-routes.js';
import { createDecisionChain } from './chain/decision-chain.js';
import { edgeConfig } from './config.js';
import { startEdgeServer, type Route } from './http/server.js';
import { createAdmission } from './pat/admission.js';
import { createMessagesRoute } from './pat/messages-route.js';
import { createModelsRoutes } from './pat/models-route.js';
import { createTokenRoute } from './pat/token-route.js';
import { createSpendSettler } from './pat/spend-settler.js';
import { createAnthropicUpstream } from './upstream/anthropic-upstream.js';
import { createConnectorRoutes } from './admin/connector-routes.js';
import { createRedactionRoutes } from './admin/redaction-routes.js';
import { createRoleRoutes } from './admin/role-routes.js';
import { createConnectorRuntime } from './mcp/connector-runtime.js';
import { createUpstreamMcpPool } from './connectors/upstream-mcp.js';
import { createConnectorFetch } from './connectors/guarded-fetch.js';
import { openFederatedCatalog } from './mcp/federated-catalog.js';
import { createFederatedRuntime, createRuntimeByType } from './mcp/federated-runtime.js';
import { createListChangedHub } from './mcp/list-changed.js';
import { createMcpRoute } from './mcp/mcp-route.js';
import { createResultRedactor } from './mcp/redact-result.js';
import { openSessionStore } from './mcp/sessions.js';
import { createToolCall } from './mcp/tool-call.js';
import { createCredentialRelease } from './chain/credential-release.js';
import { createToolListing } from './mcp/tool-listing.js';

const base = bootService('edge', edgeConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  // The hops use the stock grpc-js transport: in our benchmark it costs less per call than
  // connect-node's client (the servers stay connect-node).
  const client = <S extends DescService>(service: S, url: string, name: string) =>
    createGrpcServiceClient(service, {
      baseUrl: url,
      tls: base.tls,
      expectedService: name,
      telemetry,
      defaultTimeoutMs: config.FORTRESS_HOP_TIMEOUT_MS,
    });
  const identity = client(IdentityService, config.FORTRESS_IDENTITY_URL, 'identity');
  const posture = client(PostureService, config.FORTRESS_POSTURE_URL, 'posture');
  const policy = client(PolicyService, config.FORTRESS_POLICY_URL, 'policy');
  const vault = client(VaultService, config.FORTRESS_VAULT_URL, 'vault');
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  const stages = telemetry.meter.createHistogram('fortress.edge.stage.duration', {
    unit: 'ms',
    description: 'Time spent in each stage of a gateway request',
    advice: { explicitBucketBoundaries: LATENCY_BUCKETS_MS },
  });
  const chain = createDecisionChain({
    identity,
    posture,
    policy,
    bus,
    logger,
    stages,
    hopTimeoutMs: config.FORTRESS_HOP_TIMEOUT_MS,
    auditAckTimeoutMs: config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
  });
  const upstream = createAnthropicUpstream({
    baseUrl: config.FORTRESS_ANTHROPIC_BASE_URL,
    timeoutMs: config.FORTRESS_UPSTREAM_TIMEOUT_MS,
    maxSockets: config.FORTRESS_UPSTREAM_MAX_SOCKETS,
  });
  const priceBook = loadPriceBook(config.FORTRESS_PRICE_BOOK_FILE);
  // The PAT archive: sealed per org with the vault's archive key, spooled, then stored.
  const archiveStore = createArchiveStore({
    endpoint: config.FORTRESS_ARCHIVE_S3_ENDPOINT,
    region: config.FORTRESS_ARCHIVE_S3_REGION,
    bucket: config.FORTRESS_ARCHIVE_S3_BUCKET,
  });
  const archiveKeys = createArchiveKeys(vault, { timeoutMs: config.FORTRESS_HOP_TIMEOUT_MS });
  const archive = createArchiveWriter({
    // Archive work is not part of the request whose exchange it stores: it runs outside the
    // request's trace, so a request's trace shows the chain and nothing else.
    key: (orgId) => context.with(ROOT_CONTEXT, () => archiveKeys.forWriting(orgId)),
    put: (key, body) => context.with(ROOT_CONTEXT, () => archiveStore.put(key, body)),
    spoolDir: config.FORTRESS_ARCHIVE_SPOOL_DIR,
    logger,
    notify: (orgId, type, data) => {
      bus
        .publish(
          envelope({
            orgId,
            occurredAt: timestampNow(),
            source: 'edge',
            payload: { case: 'notification', value: { type, data } },
          }),
          config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
        )
        .catch((err: unknown) => logger.error({ err, orgId, type }, 'notification not published'));
    },
    behindRecords: config.FORTRESS_ARCHIVE_BEHIND_RECORDS,
    behindMs: config.FORTRESS_ARCHIVE_BEHIND_MS,
    maxPendingBytes: config.FORTRESS_ARCHIVE_MAX_PENDING_BYTES,
    segmentMaxAgeMs: config.FORTRESS_ARCHIVE_SEGMENT_MAX_AGE_MS,
    segmentMaxRecords: config.FORTRESS_ARCHIVE_SEGMENT_MAX_RECORDS,
    segmentMaxBytes: config.FORTRESS_ARCHIVE_SEGMENT_MAX_BYTES,
  });
  await archive.start();
  const release = createCredentialRelease({
    vault,
    policy,
    chain,
    stages,
    logger,
    hopTimeoutMs: config.FORTRESS_HOP_TIMEOUT_MS,
  });
  const admission = createAdmission({
    chain,
    release,
    bus,
    logger,
    stages,
    settle: createSpendSettler({ policy, logger, timeoutMs: config.FORTRESS_HOP_TIMEOUT_MS }),
    hopTimeoutMs: config.FORTRESS_HOP_TIMEOUT_MS,
    auditAckTimeoutMs: config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
    archive: (entry) => archive.add(entry),
  });
  const pat = { admission, upstream, logger, stages, priceBook };
  const messageRoutes = {
    ...pat,
    maxBodyBytes: config.FORTRESS_MAX_BODY_BYTES,
    archiveBodyBytes: config.FORTRESS_ARCHIVE_MAX_BODY_BYTES,
  };
  const models = createModelsRoutes({
    ...pat,
    policy,
    hopTimeoutMs: config.FORTRESS_HOP_TIMEOUT_MS,
    archiveBodyBytes: config.FORTRESS_ARCHIVE_MAX_BODY_BYTES,
  });
  /** A PAT route, timed as a whole. */
  const patRoute = (handle: Route) => ({
    product: Product.PAT,
    handle: async (...args: Parameters<Route>) => {
      const started = performance.now();
      try {
        await handle(...args);
      } finally {
        stages.record(performance.now() - started, { stage: 'total' });
      }
    },
  });
  // The admin API: the same chain, then the services' admin RPCs.
  const adminNats = await connectNats(config.FORTRESS_NATS_URL, 'fortress-edge-admin', logger);
  const identityAdmin = client(IdentityAdminService, config.FORTRESS_IDENTITY_URL, 'identity');
  const policyAdmin = client(PolicyAdminService, config.FORTRESS_POLICY_URL, 'policy');
  const vaultAdmin = client(VaultAdminService, config.FORTRESS_VAULT_URL, 'vault');
  const hopTimeoutMs = config.FORTRESS_HOP_TIMEOUT_MS;
  // The admin plane's audit reads include a streamed export, which the unary grpc-js client of
  // the hot path does not do: a Connect client (same mTLS, same peer check) serves them.
  const audit = createServiceClient(AuditService, {
    baseUrl: config.FORTRESS_AUDIT_URL,
    tls: base.tls,
    expectedService: 'audit',
    telemetry,
    defaultTimeoutMs: hopTimeoutMs,
  });
  const webhooks = client(WebhookService, config.FORTRESS_AUDIT_URL, 'audit');
  const alerts = client(AlertService, config.FORTRESS_AUDIT_URL, 'audit');
  const billing = client(BillingService, config.FORTRESS_BILLING_URL, 'billing');
  // MCP Fortress: the connectors, the tool listing and calls, the 2025-era sessions and streams.
  const connectorFetch = createConnectorFetch(config.FORTRESS_CONNECTOR_NETWORK);
  const upstreamPool = createUpstreamMcpPool({ fetch: connectorFetch });
  const runtime = createRuntimeByType(
    createConnectorRuntime({ fetch: connectorFetch }),
    createFederatedRuntime({
      catalog: await openFederatedCatalog(adminNats.nc),
      pool: upstreamPool,
      logger,
    }),
  );
  const notify = (orgId: string, type: string, data: Record<string, string>) => {
    bus
      .publish(
        envelope({
          orgId,
          occurredAt: timestampNow(),
          source: 'edge',
          payload: { case: 'notification', value: { type, data } },
        }),
        config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
      )
      .catch((err: unknown) => logger.error({ err, orgId, type }, 'notification not published'));
  };
  const mcpStreams = createListChangedHub({ bus, logger, keepAliveMs: 25_000 });
  const mcp = createMcpRoute({
    chain,
    sessions: await openSessionStore(adminNats.nc),
    listing: createToolListing({
      chain,
      policy,
      runtime,
      logger,
      hopTimeoutMs,
      pageSize: config.FORTRESS_MCP_PAGE_SIZE,
    }),
    calls: createToolCall({
      chain,
      release,
      vaultAdmin,
      policyAdmin,
      runtime,
      redact: createResultRedactor({ logger }),
      bus,
      notify,
      logger,
      stages,
      hopTimeoutMs,
      upstreamTimeoutMs: config.FORTRESS_MCP_UPSTREAM_TIMEOUT_MS,
      auditAckTimeoutMs: config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
      maxArgumentBytes: config.FORTRESS_MCP_MAX_ARGUMENT_BYTES,
    }),
    streams: mcpStreams,
    logger,
    maxBodyBytes: config.FORTRESS_MCP_MAX_BODY_BYTES,
    allowedOrigins: config.FORTRESS_MCP_ALLOWED_ORIGINS,
    listTtlMs: config.FORTRESS_MCP_LIST_TTL_MS,
  });
  /** An MCP route, timed as a whole. */
  const mcpRoute = (handle: Route) => ({
    product: Product.MCP,
    handle: async (...args: Parameters<Route>) => {
      const started = performance.now();
      try {
        await handle(...args);
      } finally {
        stages.record(performance.now() - started, { stage: 'total' });
      }
    },
  });
  const publishChange = (env: EventEnvelope) =>
    bus.publish(env, config.FORTRESS_AUDIT_ACK_TIMEOUT_MS);
  const adminApi = createAdminApi({
    root: '/api/v1/',
    chain,
    idempotency: await openIdempotencyStore(adminNats.nc),
    approvals: createApprovalGate({
      store: await openApprovalStore(adminNats.nc),
      publish: publishChange,
      hasCustomRedaction: async (orgId, key) =>
        ((await policyAdmin.getPolicy({ orgId }, { timeoutMs: hopTimeoutMs })).model?.redaction[key]
          ?.custom.length ?? 0) > 0,
      logger,
      ttlMs: config.FORTRESS_APPROVAL_TTL_MS,
    }),
    logger,
    routes: [
      ...createSessionRoutes({ identityAdmin, hopTimeoutMs }),
      ...createPatKeyRoutes({
        policyAdmin,
        vaultAdmin,
        audit,
        priceBook,
        hopTimeoutMs,
      }),
      ...createOrgKeyRoutes({ identityAdmin, policyAdmin, vaultAdmin, hopTimeoutMs }),
      ...createArchiveRoutes({ store: archiveStore, keys: archiveKeys, audit, hopTimeoutMs }),
      ...createAuditRoutes({ audit, hopTimeoutMs }),
      ...createConnectorRoutes({
        policyAdmin,
        vaultAdmin,
        vault,
        runtime,
        hopTimeoutMs,
        testTimeoutMs: config.FORTRESS_MCP_UPSTREAM_TIMEOUT_MS,
      }),
      ...createRoleRoutes({ policyAdmin, hopTimeoutMs }),
      ...createRedactionRoutes({ policyAdmin, identityAdmin, hopTimeoutMs }),
      ...createWebhookRoutes({ webhooks, hopTimeoutMs }),
      ...createAlertRoutes({ alerts, hopTimeoutMs }),
      ...createBillingRoutes({ billing, hopTimeoutMs }),
      ...createMeteringRoutes({ audit, policyAdmin, vaultAdmin, hopTimeoutMs }),
      ...createIdpRoutes({
        identityAdmin,
        publish: publishChange,
        logger,
        hopTimeoutMs,
      }),
      ...createUserRoutes({ identityAdmin, hopTimeoutMs }),
    ],
  });
  const adminRpc = createAdminRpc(adminApi);
  const server = await startEdgeServer({
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_EDGE_PORT,
    logger,
    tracer: telemetry.tracer,
    routes: {
      'POST /v1/messages': patRoute(createMessagesRoute(messageRoutes, 'pat:messages.create')),
      'POST /v1/messages/count_tokens': patRoute(
        createMessagesRoute(messageRoutes, 'pat:messages.count_tokens'),
      ),
      'GET /v1/models': patRoute(models.list),
      'GET /v1/models/*': patRoute(models.retrieve),
      'POST /v1/mcp': mcpRoute(mcp.post),
      'GET /v1/mcp': mcpRoute(mcp.get),
      'DELETE /v1/mcp': mcpRoute(mcp.delete),
      'POST /v1/fortress/token': patRoute(
        createTokenRoute({
          ...{ identity, bus, logger, stages, hopTimeoutMs },
          auditAckTimeoutMs: config.FORTRESS_AUDIT_ACK_TIMEOUT_MS,
        }),
      ),
    },
    prefixes: {
      '/api/v1/': { product: Product.ADMIN, handle: adminApi.handle },
      '/fortress.admin.v1.': { product: Product.ADMIN, handle: adminRpc.handle },
    },
  });
  const ops = await startOpsServer({
    host: config.FORTRESS_HOST,
    port: config.FORTRESS_OPS_PORT,
    telemetry,
    readiness: { nats: () => bus.ready() },
  });
  announceReady(base.name, { httpPort: server.port, opsPort: ops.port });
  return [
    telemetry.shutdown,
    bus.close,
    // Closed in reverse: the writer seals what it holds, then its store goes.
    () => archiveStore.close(),
    () => archive.close(),
    () => adminNats.nc.close(),
    () => upstream.close(),
    () => upstreamPool.close(),
    server.close,
    // Before the server closes (closers run in reverse): open streams would hold it open.
    () => mcpStreams.close(),
    ops.close,
  ];
});
