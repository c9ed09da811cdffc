import { BillingService } from '@fortress/proto/billing/v1/billing_pb';
import { AUDIT_STREAM, connectEventBus } from '@fortress/kit/event-bus';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { renderInvoicePdf } from './adapters/pdf/invoice-pdf.js';
import { createBillingStore } from './adapters/pg/billing-store.js';
import { billingConfig } from './config.js';
import {
  CHANGE_SUBJECTS,
  MEMBER_SEATS_CONSUMER,
  createMemberSeatsHandler,
} from './consumers/member-seats.js';
import { createBillingRpc } from './rpc/billing-service.js';

const base = bootService('billing', billingConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const store = createBillingStore(pool);
  const bus = await connectEventBus({
    url: config.FORTRESS_NATS_URL,
    service: base.name,
    logger,
    telemetry,
  });
  await bus.consume({
    stream: AUDIT_STREAM,
    durable: MEMBER_SEATS_CONSUMER,
    filterSubject: CHANGE_SUBJECTS,
    handle: createMemberSeatsHandler({ store, logger }),
    // Not an envelope at all: the audit writer keeps it; seats have nothing to take from it.
    reject: () => Promise.resolve(),
  });
  const served = await serveBackend(base, {
    routes: (router) =>
      router.service(BillingService, createBillingRpc({ store, renderPdf: renderInvoicePdf })),
    readiness: { postgres: () => pgReady(pool), nats: () => bus.ready() },
  });
  return [telemetry.shutdown, () => pool.end(), () => bus.close(), ...served];
});
