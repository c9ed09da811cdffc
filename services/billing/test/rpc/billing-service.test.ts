import assert from 'node:assert/strict';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import { remoteReason } from '@fortress/kit/errors';
import { LineKind, SeatChange, type BillingService } from '@fortress/proto/billing/v1/billing_pb';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import {
  startPgFixture,
  type PgFixture,
} from '../../../../packages/kit/test/support/pg-fixture.js';
import { itHardensTheSchema } from '../../../../packages/kit/test/support/schema-hardening.js';
import { renderInvoicePdf } from '../../src/adapters/pdf/invoice-pdf.js';
import { createBillingStore } from '../../src/adapters/pg/billing-store.js';
import { createBillingRpc } from '../../src/rpc/billing-service.js';
import { billingClient } from '../support/billing-client.js';
import { pdfTextRuns } from '../support/pdf-text.js';

const ORG_A = 'org_billa';
const ORG_B = 'org_billb';
const ORG_ZT = 'org_billzt';
const ids = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

describe('BillingService on PostgreSQL', function () {
  this.timeout(120_000);
  let fx: PgFixture;
  let client: Client<typeof BillingService>;

  const seat = (orgId: string, userId: string, product: Product, change: SeatChange, at: string) =>
    client.recordSeatChange({
      orgId,
      userId,
      product,
      change,
      effectiveAt: timestampFromDate(new Date(at)),
    });
  const grant = async (orgId: string, at: string, products: Product[], users: string[]) => {
    for (const u of users)
      for (const p of products) await seat(orgId, u, p, SeatChange.GRANTED, at);
  };
  const counts = async () =>
    (
      await fx.admin.query<{ n: number }>(
        'SELECT (SELECT count(*) FROM billing.seat_events)::int + (SELECT count(*) FROM billing.accounts)::int * 1000 AS n',
      )
    ).rows[0]?.n;

  before(async () => {
    fx = await startPgFixture(['billing']);
    client = billingClient(
      createBillingRpc({
        store: createBillingStore(fx.runtimePool('billing')),
        renderPdf: renderInvoicePdf,
        now: () => new Date('2026-02-03T12:00:00Z'),
      }),
    );
    // The seeds' worked example for org A; a different team for org B.
    for (const orgId of [ORG_A, ORG_B])
      await client.setAccount({ orgId, tier: Tier.BANK, anchorDate: '2026-01-15' });
    await grant(ORG_A, '2026-01-15T09:00:00Z', [Product.MCP, Product.PAT], ids('usr_b', 60));
    await grant(ORG_A, '2026-01-25T10:00:00Z', [Product.MCP], ids('usr_m', 5));
    await grant(ORG_A, '2026-02-01T08:00:00Z', [Product.PAT], ids('usr_p', 3));
    await grant(ORG_B, '2026-01-20T09:00:00Z', [Product.MCP], ['usr_b1', 'usr_other']);
    // A member change that holds no seat: a row in member_sync, none in the ledger.
    await createBillingStore(fx.runtimePool('billing')).applyMemberSeats(ORG_A, {
      userId: 'mbr_none',
      eventId: '00000000-0000-4000-8000-000000000001',
      at: new Date('2026-01-16T00:00:00Z'),
      held: new Set(),
    });
  });
  after(() => fx?.stop());

  describe('schema', () =>
    itHardensTheSchema('billing', ['accounts', 'member_sync', 'seat_events'], () => fx, ORG_A));

  describe("the seeds' worked example", () => {
    it('previews Jan 15 → Feb 14 at exactly $503.71, itemised per event and user', async () => {
      const { invoice } = await client.previewInvoice({ orgId: ORG_A, cycleStart: '2026-01-15' });
      assert.equal(invoice?.totalCents, 50_371n);
      assert.deepEqual(
        invoice?.lines.map((l) => [l.kind, l.fromDate, l.days, l.users.length, l.amountCents]),
        [
          [LineKind.CYCLE, '2026-01-15', 31, 60, 48_000n],
          [LineKind.ADDITION, '2026-01-25', 21, 5, 1694n],
          [LineKind.ADDITION, '2026-02-01', 14, 3, 677n],
        ],
      );
      assert.deepEqual(
        [invoice?.cycleEnd, invoice?.cycleDays, invoice?.seats?.total, invoice?.seats?.bundle],
        ['2026-02-14', 31, 68, 60],
      );
    });

    it('previews the running cycle when none is named', async () => {
      const { invoice } = await client.previewInvoice({ orgId: ORG_A });
      assert.equal(invoice?.cycleStart, '2026-01-15');
    });

    it('previews the next full cycle at $520.00', async () => {
      const { invoice } = await client.previewInvoice({ orgId: ORG_A, cycleStart: '2026-02-15' });
      assert.equal(invoice?.totalCents, 52_000n);
    });

    it('returns the invoice as a PDF with the total and per-user lines', async () => {
      const res = await client.getInvoicePdf({ orgId: ORG_A, cycleStart: '2026-01-15' });
      assert.equal(res.filename, 'fortress-invoice-org_billa-2026-01-15.pdf');
      const text = pdfTextRuns(res.pdf);
      assert.ok(text.includes('Total: $503.71'));
      assert.ok(text.includes('    usr_m1: $3.39'));
    });
  });

  describe('tenant isolation', () => {
    it("never puts one org's seats in another's invoice", async () => {
      const a = await client.previewInvoice({ orgId: ORG_A, cycleStart: '2026-01-15' });
      const b = await client.previewInvoice({ orgId: ORG_B, cycleStart: '2026-01-15' });
      const usersOf = (i: typeof a) =>
        i.invoice?.lines.flatMap((l) => l.users.map((u) => u.userId));
      assert.ok(!usersOf(a)?.includes('usr_other'));
      assert.deepEqual(usersOf(b), ['usr_b1', 'usr_other']);
      assert.equal(b.invoice?.totalCents, 839n); // 2 × $5 × 26/31
    });

    it('keeps the same user id in two orgs apart', async () => {
      // usr_b1 holds MCP in org B; revoking PAT for it there must not see org A's grant.
      await assert.rejects(
        seat(ORG_B, 'usr_b1', Product.PAT, SeatChange.REVOKED, '2026-01-21T00:00:00Z'),
        (e: ConnectError) => remoteReason(e) === 'seat_not_granted',
      );
    });
  });

  it('keeps the seat ledger append-only, even for the superuser', async () => {
    for (const sql of [
      'UPDATE billing.seat_events SET user_id = user_id',
      'DELETE FROM billing.seat_events',
      'TRUNCATE billing.seat_events CASCADE',
    ])
      await assert.rejects(fx.admin.query(sql), /append-only/, sql);
  });

  describe('Zero Trust', () => {
    it('stores and returns custom prices and bills with them', async () => {
      const customPrices = {
        singleCents: 450n,
        bundleCents: 750n,
        packMax: 150,
        overageSingleCents: 600n,
        overageBundleCents: 1000n,
      };
      const set = await client.setAccount({
        orgId: ORG_ZT,
        tier: Tier.ZERO_TRUST,
        anchorDate: '2026-01-15',
        customPrices,
      });
      assert.equal(set.account?.customPrices?.bundleCents, 750n);
      await grant(ORG_ZT, '2026-01-15T00:00:00Z', [Product.MCP, Product.PAT], ['usr_z1']);
      const { invoice } = await client.previewInvoice({ orgId: ORG_ZT, cycleStart: '2026-01-15' });
      assert.deepEqual(
        [invoice?.totalCents, invoice?.packMin, invoice?.belowPackMinimum],
        [750n, 150, true],
      );
    });
  });

  describe('bad input', () => {
    const at = timestampFromDate(new Date('2026-01-20T00:00:00Z'));
    const cases: Array<{ name: string; call: () => Promise<unknown>; code: Code; detail: string }> =
      [
        {
          name: 'an unknown product',
          call: () =>
            client.recordSeatChange({
              orgId: ORG_A,
              userId: 'usr_x',
              product: Product.ADMIN,
              change: SeatChange.GRANTED,
              effectiveAt: at,
            }),
          code: Code.InvalidArgument,
          detail: 'product',
        },
        {
          name: 'an unspecified change',
          call: () =>
            client.recordSeatChange({
              orgId: ORG_A,
              userId: 'usr_x',
              product: Product.MCP,
              effectiveAt: at,
            }),
          code: Code.InvalidArgument,
          detail: 'change',
        },
        {
          name: 'revoking a seat never granted',
          call: () =>
            seat(ORG_A, 'usr_never', Product.MCP, SeatChange.REVOKED, '2026-01-20T00:00:00Z'),
          code: Code.FailedPrecondition,
          detail: 'seat_not_granted',
        },
        {
          name: 'granting a seat already held',
          call: () =>
            seat(ORG_A, 'usr_m1', Product.MCP, SeatChange.GRANTED, '2026-01-28T00:00:00Z'),
          code: Code.FailedPrecondition,
          detail: 'seat_already_granted',
        },
        {
          name: 'an effective time before the first cycle',
          call: () => seat(ORG_A, 'usr_x', Product.MCP, SeatChange.GRANTED, '2026-01-14T23:59:59Z'),
          code: Code.InvalidArgument,
          detail: 'effective_at',
        },
        {
          name: 'no effective time',
          call: () =>
            client.recordSeatChange({
              orgId: ORG_A,
              userId: 'usr_x',
              product: Product.MCP,
              change: SeatChange.GRANTED,
            }),
          code: Code.InvalidArgument,
          detail: 'effective_at',
        },
        {
          name: 'a malformed user id',
          call: () =>
            seat(ORG_A, 'not an id', Product.MCP, SeatChange.GRANTED, '2026-01-20T00:00:00Z'),
          code: Code.InvalidArgument,
          detail: 'user_id',
        },
        {
          name: 'an org without an account',
          call: () =>
            seat('org_nobody', 'usr_x', Product.MCP, SeatChange.GRANTED, '2026-01-20T00:00:00Z'),
          code: Code.NotFound,
          detail: 'account_not_found',
        },
        {
          name: 'Zero Trust without custom prices',
          call: () =>
            client.setAccount({
              orgId: 'org_ztnone',
              tier: Tier.ZERO_TRUST,
              anchorDate: '2026-01-15',
            }),
          code: Code.InvalidArgument,
          detail: 'custom_prices',
        },
        {
          name: 'an unspecified tier',
          call: () => client.setAccount({ orgId: 'org_notier', anchorDate: '2026-01-15' }),
          code: Code.InvalidArgument,
          detail: 'tier',
        },
        {
          name: 'an impossible anchor date',
          call: () =>
            client.setAccount({ orgId: 'org_badday', tier: Tier.SOHO, anchorDate: '2026-02-30' }),
          code: Code.InvalidArgument,
          detail: 'anchor_date',
        },
        {
          name: 'moving the anchor of an account',
          call: () =>
            client.setAccount({ orgId: ORG_A, tier: Tier.SOHO, anchorDate: '2026-01-16' }),
          code: Code.FailedPrecondition,
          detail: 'anchor_immutable',
        },
        {
          name: 'a day no cycle starts on',
          call: () => client.previewInvoice({ orgId: ORG_A, cycleStart: '2026-01-20' }),
          code: Code.InvalidArgument,
          detail: 'cycle_start',
        },
        {
          name: 'a cycle before the sign-up day',
          call: () => client.getInvoicePdf({ orgId: ORG_A, cycleStart: '2025-12-15' }),
          code: Code.InvalidArgument,
          detail: 'cycle_start',
        },
      ];
    for (const c of cases)
      it(`refuses ${c.name} with ${Code[c.code]} and stores nothing`, async () => {
        const before = await counts();
        await assert.rejects(c.call(), (err: unknown) => {
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, c.code, err.message);
          const detail = err.metadata.get('fortress-field') ?? remoteReason(err);
          assert.equal(detail, c.detail, err.message);
          return true;
        });
        assert.equal(await counts(), before);
        const { account } = await client.getAccount({ orgId: ORG_A });
        assert.deepEqual([account?.tier, account?.anchorDate], [Tier.BANK, '2026-01-15']);
      });
  });
});
