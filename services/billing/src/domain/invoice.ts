import { dayOf, type Cycle, type Day } from './cycle.js';
import { allocate, proRata } from './money.js';
import type { PricePlan, Rates } from './price-plan.js';
import { byEffectiveTime, type SeatEvent, type SeatProduct } from './seat-ledger.js';

/** Why a line exists. */
export type LineKind = 'cycle' | 'addition' | 'bundle_credit';
/** What a line's rate is for. */
export type Rated = SeatProduct | 'bundle';

/** One event of the cycle: the users who got the same charge from the same day. */
export interface InvoiceLine {
  kind: LineKind;
  rated: Rated;
  overage: boolean;
  from: Day;
  to: Day;
  days: number;
  /** Monthly rate per user (positive on credits too). */
  rateCents: number;
  /** Rounded half-up once for the whole line; negative for credits. */
  amountCents: number;
  /** Per-user shares, by user id; they add up to amountCents. */
  users: Array<{ userId: string; amountCents: number }>;
}

/** The seats of a cycle; a user with both products is one bundle seat. */
export interface SeatSummary {
  total: number;
  bundle: number;
  mcpOnly: number;
  patOnly: number;
  overage: number;
}

/** One cycle's bill. */
export interface Invoice {
  orgId: string;
  plan: PricePlan;
  cycle: Cycle;
  lines: InvoiceLine[];
  totalCents: number;
  seats: SeatSummary;
  belowPackMinimum: boolean;
}

/** What one user is charged for this cycle. */
interface UserCharge {
  overage: boolean;
  /** Each product charged, from the day its charge starts. */
  from: Map<SeatProduct, Day>;
}

/** A user's products and since when they have held any. */
interface Holding {
  products: Set<SeatProduct>;
  since: SeatEvent | undefined;
}

const KIND_ORDER: Record<LineKind, number> = { cycle: 0, addition: 1, bundle_credit: 2 };
const RATED_ORDER: Record<Rated, number> = { bundle: 0, mcp: 1, pat: 2 };

function apply(holdings: Map<string, Holding>, e: SeatEvent): void {
  let h = holdings.get(e.userId);
  if (!h) holdings.set(e.userId, (h = { products: new Set(), since: undefined }));
  const had = h.products.size > 0;
  if (e.change === 'granted') h.products.add(e.product);
  else h.products.delete(e.product);
  if (!had && h.products.size > 0) h.since = e;
  if (h.products.size === 0) h.since = undefined;
}

const holders = (holdings: Map<string, Holding>) =>
  [...holdings].filter(([, h]) => h.products.size > 0);

/**
 * The invoice of `cycle` from the org's whole seat ledger. The rules (see the README):
 * - Seats held on the cycle's first day (changes effective that day included) pay the full
 *   monthly rate: the bundle rate for users with both products.
 * - A product granted later pays its single rate pro-rata for the days left, that day included.
 *   A user who gains both products the same day pays the bundle rate pro-rata.
 * - A user who comes to hold both products on different days gets a bundle credit,
 *   (2 × single − bundle) pro-rata from the day the second one was granted.
 * - Revocations refund nothing this cycle; a product once charged is paid through the cycle end
 *   (granting it again the same cycle costs nothing). The seat is gone from the next cycle.
 * - Overage: at the cycle start the seats held longest fill the pack and the most recently added
 *   ones are overage; a seat added mid-cycle is overage if the pack was already full when it
 *   came. Overage seats pay the overage rates on all their lines for the cycle.
 * - Lines group users with the same kind, rate and first day; each line is rounded half-up to
 *   the cent once, and split between its users so the shares add up.
 * - Below the pack minimum, seats are billed as held and the invoice is flagged.
 */
export function buildInvoice(input: {
  orgId: string;
  plan: PricePlan;
  cycle: Cycle;
  events: readonly SeatEvent[];
}): Invoice {
  const { plan, cycle } = input;
  const packMax = plan.packMax ?? Number.POSITIVE_INFINITY;
  const events = [...input.events].sort(byEffectiveTime);
  const holdings = new Map<string, Holding>();
  let i = 0;
  for (; i < events.length && dayOf(events[i]!.at) <= cycle.start; i++) apply(holdings, events[i]!);

  const charges = new Map<string, UserCharge>();
  const atStart = holders(holdings).sort(
    ([ua, a], [ub, b]) => byEffectiveTime(a.since!, b.since!) || (ua < ub ? -1 : 1),
  );
  atStart.forEach(([userId, h], rank) =>
    charges.set(userId, {
      overage: rank >= packMax,
      from: new Map([...h.products].map((p) => [p, cycle.start])),
    }),
  );

  for (; i < events.length && dayOf(events[i]!.at) <= cycle.end; i++) {
    const e = events[i]!;
    if (e.change === 'granted') {
      let charge = charges.get(e.userId);
      if (!charge) {
        charge = { overage: holders(holdings).length >= packMax, from: new Map() };
        charges.set(e.userId, charge);
      }
      if (!charge.from.has(e.product)) charge.from.set(e.product, dayOf(e.at));
    }
    apply(holdings, e);
  }

  const lines = groupLines(charges, plan.rates, cycle);
  const seats: SeatSummary = { total: charges.size, bundle: 0, mcpOnly: 0, patOnly: 0, overage: 0 };
  for (const c of charges.values()) {
    if (c.from.size === 2) seats.bundle++;
    else if (c.from.has('mcp')) seats.mcpOnly++;
    else seats.patOnly++;
    if (c.overage) seats.overage++;
  }
  return {
    orgId: input.orgId,
    plan,
    cycle,
    lines,
    totalCents: lines.reduce((sum, l) => sum + l.amountCents, 0),
    seats,
    belowPackMinimum: seats.total < plan.packMin,
  };
}

interface Item {
  kind: LineKind;
  rated: Rated;
  overage: boolean;
  from: Day;
  rateCents: number;
}

/** A user's items: what they are charged for, before grouping and rounding. */
function itemsOf(charge: UserCharge, rates: Rates, cycle: Cycle): Item[] {
  const single = charge.overage ? rates.overageSingle : rates.single;
  const bundle = charge.overage ? rates.overageBundle : rates.bundle;
  const kind = (from: Day): LineKind => (from === cycle.start ? 'cycle' : 'addition');
  const item = (rated: Rated, from: Day, rateCents: number, k = kind(from)): Item => ({
    kind: k,
    rated,
    overage: charge.overage,
    from,
    rateCents,
  });
  const mcp = charge.from.get('mcp');
  const pat = charge.from.get('pat');
  if (mcp !== undefined && pat !== undefined) {
    if (mcp === pat) return [item('bundle', mcp, bundle)];
    return [
      item('mcp', mcp, single),
      item('pat', pat, single),
      item('bundle', Math.max(mcp, pat), 2 * single - bundle, 'bundle_credit'),
    ];
  }
  if (mcp !== undefined) return [item('mcp', mcp, single)];
  if (pat !== undefined) return [item('pat', pat, single)];
  return [];
}

function groupLines(charges: Map<string, UserCharge>, rates: Rates, cycle: Cycle): InvoiceLine[] {
  const groups = new Map<string, { item: Item; users: string[] }>();
  for (const [userId, charge] of charges) {
    for (const item of itemsOf(charge, rates, cycle)) {
      const key = `${item.kind}|${item.rated}|${item.overage}|${item.from}|${item.rateCents}`;
      const g = groups.get(key) ?? { item, users: [] };
      g.users.push(userId);
      groups.set(key, g);
    }
  }
  const lines = [...groups.values()].map(({ item, users }) => {
    const days = cycle.end - item.from + 1;
    const magnitude = proRata(item.rateCents, users.length, days, cycle.days);
    // 0 - x, not -x: a zero credit must be 0, not -0.
    const amountCents = item.kind === 'bundle_credit' ? 0 - magnitude : magnitude;
    const sorted = users.sort();
    const shares = allocate(amountCents, sorted.length);
    return {
      ...item,
      to: cycle.end,
      days,
      amountCents,
      users: sorted.map((userId, k) => ({ userId, amountCents: shares[k] ?? 0 })),
    };
  });
  return lines.sort(
    (a, b) =>
      a.from - b.from ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      RATED_ORDER[a.rated] - RATED_ORDER[b.rated] ||
      Number(a.overage) - Number(b.overage),
  );
}
