import { create } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  AccountSchema,
  type Account,
  type BillingService,
  type CustomPrices as CustomPricesMessage,
} from '@fortress/proto/billing/v1/billing_pb';
import { InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { clip, requireId } from '@fortress/kit/validate';
import type { BillingStore } from '../adapters/pg/billing-store.js';
import { acceptSeatChange, type BillingAccount } from '../domain/account.js';
import { cycleContaining, cycleStartingOn, dayOf, formatDay, parseDay } from '../domain/cycle.js';
import { buildInvoice, type Invoice } from '../domain/invoice.js';
import { pricePlan, validatePrices, type CustomPrices } from '../domain/price-plan.js';
import { changeFromProto, productFromProto, tierFromProto, tierToProto } from './enums.js';
import { invoiceMessage } from './invoice-message.js';

/** What the handlers need. */
export interface BillingRpcDeps {
  store: BillingStore;
  renderPdf: (invoice: Invoice) => Promise<Uint8Array>;
  /** The clock that picks the running cycle when none is named. */
  now?: () => Date;
}

const orgIdOf = (value: string) => requireId('org_id', value, 'org');

function customFromProto(c: CustomPricesMessage | undefined): CustomPrices | undefined {
  return (
    c && {
      singleCents: Number(c.singleCents),
      bundleCents: Number(c.bundleCents),
      packMax: c.packMax,
      overageSingleCents: Number(c.overageSingleCents),
      overageBundleCents: Number(c.overageBundleCents),
    }
  );
}

function accountMessage(a: BillingAccount): Account {
  const c = a.customPrices;
  return create(AccountSchema, {
    orgId: a.orgId,
    tier: tierToProto(a.tier),
    anchorDate: formatDay(a.anchor),
    ...(c && {
      customPrices: {
        singleCents: BigInt(c.singleCents),
        bundleCents: BigInt(c.bundleCents),
        packMax: c.packMax,
        overageSingleCents: BigInt(c.overageSingleCents),
        overageBundleCents: BigInt(c.overageBundleCents),
      },
    }),
  });
}

/** The BillingService handlers: validation here, rules in the domain, rows in the store. */
export function createBillingRpc(deps: BillingRpcDeps): ServiceImpl<typeof BillingService> {
  const now = deps.now ?? (() => new Date());

  async function accountOf(orgId: string): Promise<BillingAccount> {
    const account = await deps.store.account(orgId);
    if (!account)
      throw new NotFoundError('account_not_found', `org "${orgId}" has no billing account`);
    return account;
  }

  /** The invoice of the cycle starting on `cycleStart` ("" for the running one). */
  async function invoiceFor(rawOrgId: string, cycleStart: string): Promise<Invoice> {
    const orgId = orgIdOf(rawOrgId);
    const start = cycleStart === '' ? undefined : parseDay(cycleStart);
    if (cycleStart !== '' && start === undefined)
      throw new InvalidArgumentError(
        'cycle_start',
        `cycle_start must be a date "YYYY-MM-DD", got "${clip(cycleStart)}"`,
      );
    const account = await accountOf(orgId);
    const cycle =
      start === undefined
        ? cycleContaining(account.anchor, dayOf(now()))
        : cycleStartingOn(account.anchor, start);
    if (!cycle)
      throw new InvalidArgumentError(
        'cycle_start',
        start === undefined
          ? `org "${orgId}" has no running billing cycle before ${formatDay(account.anchor)}`
          : `no billing cycle of org "${orgId}" starts on ${cycleStart} (cycles start on day ${formatDay(account.anchor).slice(8)} of each month, or the month's last day, from ${formatDay(account.anchor)})`,
      );
    const plan = pricePlan(account.tier, account.customPrices);
    const events = await deps.store.seatEvents(orgId, cycle.end);
    return buildInvoice({ orgId, plan, cycle, events });
  }

  return {
    async setAccount(req) {
      const orgId = orgIdOf(req.orgId);
      const tier = tierFromProto(req.tier);
      const anchor = parseDay(req.anchorDate);
      if (anchor === undefined)
        throw new InvalidArgumentError(
          'anchor_date',
          `anchor_date must be a date "YYYY-MM-DD", got "${clip(req.anchorDate)}"`,
        );
      const customPrices = validatePrices(tier, customFromProto(req.customPrices));
      const account = await deps.store.setAccount({ orgId, tier, anchor, customPrices });
      return { account: accountMessage(account) };
    },

    async getAccount(req) {
      return { account: accountMessage(await accountOf(orgIdOf(req.orgId))) };
    },

    // Called directly for now; SCIM provisioning and identity's user change events will feed
    // the same ledger through this path once they publish seat changes.
    async recordSeatChange(req) {
      const orgId = orgIdOf(req.orgId);
      const userId = requireId('user_id', req.userId);
      const product = productFromProto(req.product);
      const change = changeFromProto(req.change);
      if (!req.effectiveAt)
        throw new InvalidArgumentError('effective_at', 'effective_at is required');
      const next = { userId, product, change, at: timestampDate(req.effectiveAt) };
      const seq = await deps.store.recordSeatChange(orgId, next, (account, history) =>
        acceptSeatChange(account, history, next),
      );
      return { seq: BigInt(seq) };
    },

    async previewInvoice(req) {
      return { invoice: invoiceMessage(await invoiceFor(req.orgId, req.cycleStart)) };
    },

    async getInvoicePdf(req) {
      const invoice = await invoiceFor(req.orgId, req.cycleStart);
      return {
        pdf: await deps.renderPdf(invoice),
        filename: `fortress-invoice-${invoice.orgId}-${formatDay(invoice.cycle.start)}.pdf`,
      };
    },
  };
}
