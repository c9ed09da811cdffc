import type { SeatEvent, SeatProduct } from '../../src/domain/seat-ledger.js';

/** Builds ledger events in order of recording, for tests. */
export function ledger() {
  const events: SeatEvent[] = [];
  const add = (
    change: SeatEvent['change'],
    at: string,
    products: SeatProduct[],
    users: string[],
  ) => {
    for (const userId of users)
      for (const product of products)
        events.push({ seq: events.length + 1, userId, product, change, at: new Date(at) });
  };
  return {
    events,
    grant(at: string, products: SeatProduct[], users: string[]) {
      add('granted', at, products, users);
      return this;
    },
    revoke(at: string, products: SeatProduct[], users: string[]) {
      add('revoked', at, products, users);
      return this;
    },
  };
}

/** `count` user ids `<prefix>_1` … */
export const users = (prefix: string, count: number, first = 1) =>
  Array.from({ length: count }, (_, i) => `${prefix}_${i + first}`);
