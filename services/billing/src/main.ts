import { BillingService } from '@fortress/proto/billing/v1/billing_pb';
import { createPool, pgReady } from '@fortress/kit/pg';
import { serveBackend } from '@fortress/kit/backend-server';
import { runService } from '@fortress/kit/lifecycle';
import { bootService } from '@fortress/kit/service';
import { renderInvoicePdf } from './adapters/pdf/invoice-pdf.js';
import { createBillingStore } from './adapters/pg/billing-store.js';
import { billingConfig } from './config.js';
import { createBillingRpc } from './rpc/billing-service.js';

const base = bootService('billing', billingConfig);
const { config, logger, telemetry } = base;

await runService(logger, async () => {
  const pool = createPool({ url: config.FORTRESS_DATABASE_URL, service: base.name });
  const served = await serveBackend(base, {
    routes: (router) =>
      router.service(
        BillingService,
        createBillingRpc({ store: createBillingStore(pool), renderPdf: renderInvoicePdf }),
      ),
    readiness: { postgres: () => pgReady(pool) },
  });
  return [telemetry.shutdown, () => pool.end(), ...served];
});
