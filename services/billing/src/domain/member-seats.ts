import type { JsonObject, JsonValue } from '@bufbuild/protobuf';
import type { NewSeatEvent, SeatEvent, SeatProduct } from './seat-ledger.js';

const PRODUCTS: readonly SeatProduct[] = ['mcp', 'pat'];

/**
 * The seats a member holds as a change event describes them (`before` or `after` of an
 * identity "member" change): their products while active, none when inactive or absent.
 * Anything that is not one of the two products is ignored.
 */
export function seatsOf(facts: JsonObject | undefined): Set<SeatProduct> {
  if (!facts || facts['active'] !== true) return new Set();
  const products: JsonValue = facts['products'] ?? [];
  return new Set(PRODUCTS.filter((p) => Array.isArray(products) && products.includes(p)));
}

/** Whether a user holds a product's seat after their ledger history (in ledger order). */
function heldAfter(history: readonly SeatEvent[], product: SeatProduct): boolean {
  let held = false;
  for (const e of history) if (e.product === product) held = e.change === 'granted';
  return held;
}

/**
 * The seat changes that bring the ledger from what it says about a user (`history`, in
 * ledger order) to the seats their latest change event says they hold, effective at the
 * event's time: grants for new products, revocations for removed ones, nothing otherwise.
 * Reconciling with the ledger, not with the event's `before`, makes a repeated event change
 * nothing and lets the ledger catch up with a member whose earlier events it never saw.
 */
export function seatChangesFor(
  userId: string,
  held: ReadonlySet<SeatProduct>,
  history: readonly SeatEvent[],
  at: Date,
): NewSeatEvent[] {
  const changes: NewSeatEvent[] = [];
  for (const product of PRODUCTS) {
    const was = heldAfter(history, product);
    const is = held.has(product);
    if (was !== is) changes.push({ userId, product, change: is ? 'granted' : 'revoked', at });
  }
  return changes;
}
