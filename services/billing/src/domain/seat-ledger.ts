import { FailedPreconditionError } from '@fortress/kit/errors';

/** The products a seat can be for. */
export type SeatProduct = 'mcp' | 'pat';
/** What happened to a seat. */
export type SeatChangeKind = 'granted' | 'revoked';

/** One row of the append-only seat ledger. */
export interface SeatEvent {
  /** Order of recording within the org; breaks ties between equal times. */
  seq: number;
  userId: string;
  product: SeatProduct;
  change: SeatChangeKind;
  /** When the change takes effect (may be earlier than when it was recorded). */
  at: Date;
}

/** A seat change not yet in the ledger. */
export type NewSeatEvent = Omit<SeatEvent, 'seq'>;

/** Ledger order: effective time, then order of recording. */
export function byEffectiveTime(a: SeatEvent, b: SeatEvent): number {
  return a.at.getTime() - b.at.getTime() || a.seq - b.seq;
}

/**
 * Refuses a change that would leave one user's history for one product inconsistent: grants
 * and revocations must alternate, starting with a grant. The new change is checked at its
 * effective time, so a back-dated change must also agree with the changes recorded after it.
 * `history` holds that user's events for that product.
 */
export function checkSeatChange(history: readonly SeatEvent[], next: NewSeatEvent): void {
  const NEW = Number.MAX_SAFE_INTEGER;
  const all = [...history, { ...next, seq: NEW }].sort(byEffectiveTime);
  let held = false;
  for (const e of all) {
    const ok = e.change === 'granted' ? !held : held;
    if (!ok) {
      const what = `user "${next.userId}" ${held ? 'already holds' : 'holds no'} a ${next.product} seat`;
      if (e.seq === NEW)
        throw new FailedPreconditionError(
          held ? 'seat_already_granted' : 'seat_not_granted',
          `${what} at ${next.at.toISOString()}`,
        );
      throw new FailedPreconditionError(
        'seat_history_conflict',
        `a ${next.change} ${next.product} seat for user "${next.userId}" at ${next.at.toISOString()} conflicts with the ${e.change} recorded for ${e.at.toISOString()}`,
      );
    }
    held = !held;
  }
}
