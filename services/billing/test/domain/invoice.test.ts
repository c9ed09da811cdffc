import assert from 'node:assert/strict';
import { cycleAt, formatDay, parseDay } from '../../src/domain/cycle.js';
import { buildInvoice, type Invoice } from '../../src/domain/invoice.js';
import { pricePlan, type PricePlan } from '../../src/domain/price-plan.js';
import type { SeatEvent } from '../../src/domain/seat-ledger.js';
import { ledger, users } from '../support/ledger.js';

const BANK = pricePlan('bank', undefined);
const SOHO = pricePlan('soho', undefined);

/** The invoice of the `index`th cycle after `anchor`. */
function invoice(plan: PricePlan, anchor: string, events: SeatEvent[], index = 0): Invoice {
  const day = parseDay(anchor);
  assert.ok(day !== undefined);
  return buildInvoice({ orgId: 'org_test', plan, cycle: cycleAt(day, index), events });
}

/** Lines as one readable string each: kind, rate, first day, days, users, amount. */
const lines = (inv: Invoice) =>
  inv.lines.map(
    (l) =>
      `${l.kind} ${l.rated}${l.overage ? ' overage' : ''} from ${formatDay(l.from)} ${l.days}d ${l.users.length}×${l.rateCents} = ${l.amountCents}`,
  );

describe('buildInvoice', () => {
  describe("the seeds' worked example (Bank, cycle from the 15th)", () => {
    const events = ledger()
      .grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], users('u_bundle', 60))
      .grant('2026-01-25T10:00:00Z', ['mcp'], users('u_mcp', 5))
      .grant('2026-02-01T08:00:00Z', ['pat'], users('u_pat', 3)).events;

    it('bills Jan 15 → Feb 14 exactly $503.71', () => {
      const inv = invoice(BANK, '2026-01-15', events);
      assert.equal(
        `${formatDay(inv.cycle.start)} → ${formatDay(inv.cycle.end)}`,
        '2026-01-15 → 2026-02-14',
      );
      assert.deepEqual(lines(inv), [
        'cycle bundle from 2026-01-15 31d 60×800 = 48000',
        'addition mcp from 2026-01-25 21d 5×500 = 1694',
        'addition pat from 2026-02-01 14d 3×500 = 677',
      ]);
      assert.equal(inv.totalCents, 50_371);
      assert.deepEqual(inv.seats, { total: 68, bundle: 60, mcpOnly: 5, patOnly: 3, overage: 0 });
    });

    it('itemises each user, the shares adding up to the line', () => {
      const line = invoice(BANK, '2026-01-15', events).lines[1];
      assert.deepEqual(
        line?.users.map((u) => `${u.userId} ${u.amountCents}`),
        ['u_mcp_1 339', 'u_mcp_2 339', 'u_mcp_3 339', 'u_mcp_4 339', 'u_mcp_5 338'],
      );
    });

    it('bills the next full cycle (Feb 15 → Mar 14) $520.00', () => {
      const inv = invoice(BANK, '2026-01-15', events, 1);
      assert.deepEqual(lines(inv), [
        'cycle bundle from 2026-02-15 28d 60×800 = 48000',
        'cycle mcp from 2026-02-15 28d 5×500 = 2500',
        'cycle pat from 2026-02-15 28d 3×500 = 1500',
      ]);
      assert.equal(inv.totalCents, 52_000);
    });
  });

  describe('automatic bundle credit', () => {
    it('credits $2/user/mo pro-rata when an MCP-only user adds PAT, then bills $8', () => {
      const events = ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_a'])
        .grant('2026-02-01T09:00:00Z', ['pat'], ['u_a']).events;
      assert.deepEqual(lines(invoice(BANK, '2026-01-15', events)), [
        'cycle mcp from 2026-01-15 31d 1×500 = 500',
        'addition pat from 2026-02-01 14d 1×500 = 226',
        'bundle_credit bundle from 2026-02-01 14d 1×200 = -90',
      ]);
      assert.deepEqual(lines(invoice(BANK, '2026-01-15', events, 1)), [
        'cycle bundle from 2026-02-15 28d 1×800 = 800',
      ]);
    });

    it('does the same for a PAT-only user who adds MCP', () => {
      const events = ledger()
        .grant('2026-01-15T09:00:00Z', ['pat'], ['u_b', 'u_c'])
        .grant('2026-01-25T09:00:00Z', ['mcp'], ['u_b', 'u_c']).events;
      const inv = invoice(BANK, '2026-01-15', events);
      assert.deepEqual(lines(inv), [
        'cycle pat from 2026-01-15 31d 2×500 = 1000',
        'addition mcp from 2026-01-25 21d 2×500 = 677',
        'bundle_credit bundle from 2026-01-25 21d 2×200 = -271',
      ]);
      assert.deepEqual(inv.seats, { total: 2, bundle: 2, mcpOnly: 0, patOnly: 0, overage: 0 });
    });
  });

  const A = '2026-01-15';
  const cases: Array<{
    name: string;
    plan?: PricePlan;
    anchor?: string;
    events: SeatEvent[];
    cycle?: number;
    want: string[];
    total: number;
  }> = [
    {
      name: 'a removal mid-cycle refunds nothing this cycle',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], ['u_1'])
        .revoke('2026-01-20T09:00:00Z', ['pat'], ['u_1'])
        .revoke('2026-01-22T09:00:00Z', ['mcp'], ['u_1']).events,
      want: ['cycle bundle from 2026-01-15 31d 1×800 = 800'],
      total: 800,
    },
    {
      name: 'a user removed mid-cycle is gone from the next cycle',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1', 'u_2'])
        .revoke('2026-01-20T09:00:00Z', ['mcp'], ['u_1']).events,
      cycle: 1,
      want: ['cycle mcp from 2026-02-15 28d 1×500 = 500'],
      total: 500,
    },
    {
      name: 'a bundle user who drops PAT pays the single rate from the next cycle',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], ['u_1'])
        .revoke('2026-02-01T09:00:00Z', ['pat'], ['u_1']).events,
      cycle: 1,
      want: ['cycle mcp from 2026-02-15 28d 1×500 = 500'],
      total: 500,
    },
    {
      name: 'a product granted again in the cycle it was revoked is already paid',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1'])
        .revoke('2026-01-20T09:00:00Z', ['mcp'], ['u_1'])
        .grant('2026-01-25T09:00:00Z', ['mcp'], ['u_1']).events,
      want: ['cycle mcp from 2026-01-15 31d 1×500 = 500'],
      total: 500,
    },
    {
      name: 'a revocation on the cycle’s first day takes the seat out of that cycle',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1', 'u_2'])
        .revoke('2026-02-15T00:00:00Z', ['mcp'], ['u_1']).events,
      cycle: 1,
      want: ['cycle mcp from 2026-02-15 28d 1×500 = 500'],
      total: 500,
    },
    {
      name: 'a user added mid-cycle and removed days later pays from the day added',
      events: ledger()
        .grant('2026-01-25T09:00:00Z', ['pat'], ['u_1'])
        .revoke('2026-01-28T09:00:00Z', ['pat'], ['u_1']).events,
      want: ['addition pat from 2026-01-25 21d 1×500 = 339'],
      total: 339,
    },
    {
      name: 'a new user granted both products the same day pays the bundle rate pro-rata',
      events: ledger().grant('2026-01-25T09:00:00Z', ['mcp', 'pat'], ['u_1']).events,
      want: ['addition bundle from 2026-01-25 21d 1×800 = 542'],
      total: 542,
    },
    {
      name: 'a new user upgraded to bundle later in the cycle: both additions and the credit',
      events: ledger()
        .grant('2026-01-20T09:00:00Z', ['mcp'], ['u_1'])
        .grant('2026-02-01T09:00:00Z', ['pat'], ['u_1']).events,
      want: [
        'addition mcp from 2026-01-20 26d 1×500 = 419',
        'addition pat from 2026-02-01 14d 1×500 = 226',
        'bundle_credit bundle from 2026-02-01 14d 1×200 = -90',
      ],
      total: 555,
    },
    {
      name: 'Bank at exactly the pack maximum (150) has no overage',
      events: ledger().grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 150)).events,
      want: ['cycle mcp from 2026-01-15 31d 150×500 = 75000'],
      total: 75_000,
    },
    {
      name: 'Bank one over the pack: the most recently added seat pays $6.25',
      events: ledger()
        .grant('2026-01-15T10:00:00Z', ['mcp'], ['u_late'])
        .grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 150)).events,
      want: [
        'cycle mcp from 2026-01-15 31d 150×500 = 75000',
        'cycle mcp overage from 2026-01-15 31d 1×625 = 625',
      ],
      total: 75_625,
    },
    {
      name: 'Bank bundle overage is $10.00',
      events: ledger().grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], users('u', 152)).events,
      want: [
        'cycle bundle from 2026-01-15 31d 150×800 = 120000',
        'cycle bundle overage from 2026-01-15 31d 2×1000 = 2000',
      ],
      total: 122_000,
    },
    {
      name: 'SOHO at exactly 5 users has no overage',
      plan: SOHO,
      events: ledger().grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 5)).events,
      want: ['cycle mcp from 2026-01-15 31d 5×300 = 1500'],
      total: 1500,
    },
    {
      name: 'SOHO: a sixth user added mid-cycle to a full pack pays $3.75 pro-rata',
      plan: SOHO,
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 5))
        .grant('2026-01-25T09:00:00Z', ['pat'], ['u_6']).events,
      want: [
        'cycle mcp from 2026-01-15 31d 5×300 = 1500',
        'addition pat overage from 2026-01-25 21d 1×375 = 254',
      ],
      total: 1754,
    },
    {
      name: 'SOHO: a user added after another left fills the free place at the pack rate',
      plan: SOHO,
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 5))
        .revoke('2026-01-20T09:00:00Z', ['mcp'], ['u_1'])
        .grant('2026-01-25T09:00:00Z', ['mcp'], ['u_6']).events,
      want: [
        'cycle mcp from 2026-01-15 31d 5×300 = 1500',
        'addition mcp from 2026-01-25 21d 1×300 = 203',
      ],
      total: 1703,
    },
    {
      name: 'an overage seat rejoins the pack in the next cycle once a place is free',
      plan: SOHO,
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 5))
        .grant('2026-01-25T09:00:00Z', ['mcp'], ['u_6'])
        .revoke('2026-02-01T09:00:00Z', ['mcp'], ['u_1']).events,
      cycle: 1,
      want: ['cycle mcp from 2026-02-15 28d 5×300 = 1500'],
      total: 1500,
    },
    {
      name: 'SOHO below the pack minimum bills the one seat held (and flags it)',
      plan: SOHO,
      events: ledger().grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], ['u_1']).events,
      want: ['cycle bundle from 2026-01-15 31d 1×500 = 500'],
      total: 500,
    },
    {
      name: 'a leap-year February cycle divides by 29 days',
      anchor: '2028-01-15',
      events: ledger()
        .grant('2028-01-15T09:00:00Z', ['pat'], ['u_1'])
        .grant('2028-02-29T09:00:00Z', ['mcp'], ['u_2']).events,
      cycle: 1,
      want: [
        'cycle pat from 2028-02-15 29d 1×500 = 500',
        'addition mcp from 2028-02-29 15d 1×500 = 259',
      ],
      total: 759,
    },
    {
      name: 'a cycle anchored on the 31st ends on Feb 27 and divides by 28 days',
      anchor: '2026-01-31',
      events: ledger()
        .grant('2026-01-31T09:00:00Z', ['pat'], ['u_1'])
        .grant('2026-02-14T09:00:00Z', ['mcp'], ['u_2']).events,
      want: [
        'cycle pat from 2026-01-31 28d 1×500 = 500',
        'addition mcp from 2026-02-14 14d 1×500 = 250',
      ],
      total: 750,
    },
    {
      name: 'Zero Trust uses its custom prices and overage',
      plan: pricePlan('zero_trust', {
        singleCents: 400,
        bundleCents: 700,
        packMax: 150,
        overageSingleCents: 480,
        overageBundleCents: 840,
      }),
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp', 'pat'], users('u', 151))
        .grant('2026-01-25T09:00:00Z', ['pat'], ['u_x']).events,
      want: [
        'cycle bundle from 2026-01-15 31d 150×700 = 105000',
        'cycle bundle overage from 2026-01-15 31d 1×840 = 840',
        'addition pat overage from 2026-01-25 21d 1×480 = 325',
      ],
      total: 106_165,
    },
    {
      name: 'Zero Trust without a pack maximum has no overage',
      plan: pricePlan('zero_trust', {
        singleCents: 400,
        bundleCents: 700,
        packMax: 0,
        overageSingleCents: 0,
        overageBundleCents: 0,
      }),
      events: ledger().grant('2026-01-15T09:00:00Z', ['mcp'], users('u', 200)).events,
      want: ['cycle mcp from 2026-01-15 31d 200×400 = 80000'],
      total: 80_000,
    },
    {
      name: 'changes after the cycle are not in it',
      events: ledger()
        .grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1'])
        .grant('2026-02-15T00:00:00Z', ['pat'], ['u_1', 'u_2']).events,
      want: ['cycle mcp from 2026-01-15 31d 1×500 = 500'],
      total: 500,
    },
  ];
  describe('edge cases', () => {
    for (const c of cases)
      it(c.name, () => {
        const inv = invoice(c.plan ?? BANK, c.anchor ?? A, c.events, c.cycle ?? 0);
        assert.deepEqual(lines(inv), c.want);
        assert.equal(inv.totalCents, c.total);
        for (const l of inv.lines)
          assert.equal(
            l.users.reduce((s, u) => s + u.amountCents, 0),
            l.amountCents,
            'shares add up to the line',
          );
      });
  });

  it('flags an invoice below the pack minimum and counts overage seats', () => {
    const soho = invoice(SOHO, A, ledger().grant('2026-01-15T09:00:00Z', ['mcp'], ['u_1']).events);
    assert.equal(soho.belowPackMinimum, true);
    const full = invoice(
      SOHO,
      A,
      ledger().grant('2026-01-15T09:00:00Z', ['pat'], users('u', 7)).events,
    );
    assert.equal(full.belowPackMinimum, false);
    assert.deepEqual(full.seats, { total: 7, bundle: 0, mcpOnly: 0, patOnly: 7, overage: 2 });
    assert.deepEqual(
      full.lines.filter((l) => l.overage).flatMap((l) => l.users.map((u) => u.userId)),
      ['u_6', 'u_7'],
    );
  });
});
