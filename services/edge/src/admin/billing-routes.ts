import { Readable } from 'node:stream';
import { toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  GetAccountResponseSchema,
  PreviewInvoiceResponseSchema,
  type BillingService,
} from '@fortress/proto/billing/v1/billing_pb';
import type { AdminRoute } from './admin-api.js';
import { problems, ProblemError } from './problem.js';

/** What the billing routes need. */
export interface BillingRoutesDeps {
  billing: Client<typeof BillingService>;
  hopTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The `cycle_start` of the query ("" for the cycle running now), checked for shape. */
function cycleStart(query: URLSearchParams): string {
  const v = query.get('cycle_start') ?? '';
  if (v && !DAY.test(v))
    throw new ProblemError(
      problems.badRequest('cycle_start must be a date "YYYY-MM-DD"', 'cycle_start'),
    );
  return v;
}

/**
 * The org's billing (`/api/v1/billing`, S10) over the billing service: its account (tier,
 * cycle anchor, negotiated prices) and the invoice of a cycle, as JSON or as the PDF the
 * billing service renders. Read-only (`admin:billing.read`): the tier and prices are set by the
 * operator, since the tier must agree with the org's tier in identity and an org must not set
 * its own negotiated prices; seats come from the ledger, not from this API.
 */
export function createBillingRoutes(deps: BillingRoutesDeps): AdminRoute[] {
  const { billing } = deps;
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/billing/account',
      action: 'admin:billing.read',
      async handle({ admin }) {
        const r = await billing.getAccount({ orgId: admin.orgId }, opts);
        return { status: 200, body: toJson(GetAccountResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/billing/invoice',
      action: 'admin:billing.read',
      async handle({ admin, query }) {
        const r = await billing.previewInvoice(
          { orgId: admin.orgId, cycleStart: cycleStart(query) },
          opts,
        );
        return { status: 200, body: toJson(PreviewInvoiceResponseSchema, r, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/billing/invoice.pdf',
      action: 'admin:billing.read',
      async handle({ admin, query }) {
        // Asked for before the headers go, so a refusal is still a problem.
        const r = await billing.getInvoicePdf(
          { orgId: admin.orgId, cycleStart: cycleStart(query) },
          opts,
        );
        // It goes into a Content-Disposition header: nothing but safe name characters.
        const filename = r.filename.replace(/[^A-Za-z0-9._-]/g, '_');
        return {
          status: 200,
          stream: {
            contentType: 'application/pdf',
            ...(filename ? { filename } : {}),
            chunks: Readable.from([r.pdf]),
          },
        };
      },
    },
  ];
}
