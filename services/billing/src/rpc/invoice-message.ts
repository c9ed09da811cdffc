import { create } from '@bufbuild/protobuf';
import {
  InvoiceSchema,
  LineKind,
  Rated,
  type Invoice as InvoiceMessage,
} from '@fortress/proto/billing/v1/billing_pb';
import { formatDay } from '../domain/cycle.js';
import type { Invoice } from '../domain/invoice.js';
import { tierToProto } from './enums.js';

const KINDS = {
  cycle: LineKind.CYCLE,
  addition: LineKind.ADDITION,
  bundle_credit: LineKind.BUNDLE_CREDIT,
};
const RATED = { mcp: Rated.MCP, pat: Rated.PAT, bundle: Rated.BUNDLE };

/** The wire form of an invoice. */
export function invoiceMessage(invoice: Invoice): InvoiceMessage {
  return create(InvoiceSchema, {
    orgId: invoice.orgId,
    tier: tierToProto(invoice.plan.tier),
    cycleStart: formatDay(invoice.cycle.start),
    cycleEnd: formatDay(invoice.cycle.end),
    cycleDays: invoice.cycle.days,
    lines: invoice.lines.map((l) => ({
      kind: KINDS[l.kind],
      rated: RATED[l.rated],
      overage: l.overage,
      fromDate: formatDay(l.from),
      toDate: formatDay(l.to),
      days: l.days,
      rateCents: BigInt(l.rateCents),
      amountCents: BigInt(l.amountCents),
      users: l.users.map((u) => ({ userId: u.userId, amountCents: BigInt(u.amountCents) })),
    })),
    totalCents: BigInt(invoice.totalCents),
    currency: 'USD',
    seats: invoice.seats,
    packMin: invoice.plan.packMin,
    packMax: invoice.plan.packMax ?? 0,
    belowPackMinimum: invoice.belowPackMinimum,
  });
}
