import type pg from 'pg';
import { FailedPreconditionError, NotFoundError } from '@fortress/kit/errors';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import type { BillingAccount } from '../../domain/account.js';
import { formatDay, parseDay, type Day } from '../../domain/cycle.js';
import { seatChangesFor } from '../../domain/member-seats.js';
import {
  checkSeatChange,
  type NewSeatEvent,
  type SeatEvent,
  type SeatProduct,
} from '../../domain/seat-ledger.js';

interface AccountRow {
  org_id: string;
  tier: BillingAccount['tier'];
  anchor_date: string;
  single_cents: string | null;
  bundle_cents: string | null;
  pack_max: number | null;
  overage_single_cents: string | null;
  overage_bundle_cents: string | null;
}

interface EventRow {
  seq: string;
  user_id: string;
  product: SeatEvent['product'];
  change: SeatEvent['change'];
  effective_at: Date;
}

const toAccount = (r: AccountRow): BillingAccount => ({
  orgId: r.org_id,
  tier: r.tier,
  anchor: parseDay(r.anchor_date) ?? Number.NaN,
  customPrices:
    r.single_cents === null
      ? undefined
      : {
          singleCents: Number(r.single_cents),
          bundleCents: Number(r.bundle_cents),
          packMax: r.pack_max ?? 0,
          overageSingleCents: Number(r.overage_single_cents),
          overageBundleCents: Number(r.overage_bundle_cents),
        },
});

const toEvent = (r: EventRow): SeatEvent => ({
  seq: Number(r.seq),
  userId: r.user_id,
  product: r.product,
  change: r.change,
  at: r.effective_at,
});

// anchor_date is read as text so no time zone ever touches it.
const ACCOUNT_COLUMNS = `org_id, tier, anchor_date::text AS anchor_date, single_cents, bundle_cents,
  pack_max, overage_single_cents, overage_bundle_cents`;

/**
 * Serialises an org's ledger appends (seq is the org's max + 1), whether or not the org has
 * an account yet.
 */
const lockLedger = (db: Queryable, orgId: string) =>
  db.query("SELECT pg_advisory_xact_lock(hashtext('seat_events:' || $1))", [orgId]);

/** Appends one seat change as the org's next seq. */
async function appendSeatEvent(
  db: Queryable,
  orgId: string,
  e: NewSeatEvent,
  sourceEventId: string | null,
): Promise<number> {
  const inserted = await db.query<{ seq: string }>(
    `INSERT INTO seat_events (org_id, seq, user_id, product, change, effective_at, source_event_id)
     SELECT $1, coalesce(max(seq), 0) + 1, $2, $3, $4, $5, $6 FROM seat_events WHERE org_id = $1
     RETURNING seq`,
    [orgId, e.userId, e.product, e.change, e.at, sourceEventId],
  );
  return Number(inserted.rows[0]!.seq);
}

/** A user's ledger history (every product), in ledger order. */
async function userHistory(db: Queryable, orgId: string, userId: string): Promise<SeatEvent[]> {
  const { rows } = await db.query<EventRow>(
    `SELECT seq, user_id, product, change, effective_at FROM seat_events
     WHERE org_id = $1 AND user_id = $2 ORDER BY effective_at, seq`,
    [orgId, userId],
  );
  return rows.map(toEvent);
}

/** A member change event, as the seat ledger takes it. */
export interface MemberSeats {
  userId: string;
  eventId: string;
  /** When the change was made in identity: the seat changes' effective time. */
  at: Date;
  /** The seats the member holds after it. */
  held: ReadonlySet<SeatProduct>;
}

/** What applying a member change event did. */
export type MemberSeatsResult =
  { applied: true; changes: NewSeatEvent[] } | { applied: false; reason: 'stale' };

async function lockedAccount(db: Queryable, orgId: string): Promise<BillingAccount | undefined> {
  const { rows } = await db.query<AccountRow>(
    `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE org_id = $1 FOR UPDATE`,
    [orgId],
  );
  return rows[0] && toAccount(rows[0]);
}

/** Billing's PostgreSQL store: accounts and the append-only seat ledger. */
export function createBillingStore(pool: pg.Pool) {
  return {
    /** The org's account, if it has one. */
    async account(orgId: string): Promise<BillingAccount | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<AccountRow>(
          `SELECT ${ACCOUNT_COLUMNS} FROM accounts WHERE org_id = $1`,
          [orgId],
        );
        return rows[0] && toAccount(rows[0]);
      });
    },

    /**
     * Creates or updates the account. The anchor is fixed at creation: moving it would move
     * every cycle, and with them invoices already sent.
     */
    async setAccount(account: BillingAccount): Promise<BillingAccount> {
      return inTenant(pool, account.orgId, async (db) => {
        const existing = await lockedAccount(db, account.orgId);
        if (existing && existing.anchor !== account.anchor)
          throw new FailedPreconditionError(
            'anchor_immutable',
            `the billing anchor of org "${account.orgId}" is ${formatDay(existing.anchor)} and cannot change`,
          );
        const c = account.customPrices;
        const { rows } = await db.query<AccountRow>(
          `INSERT INTO accounts (org_id, tier, anchor_date, single_cents, bundle_cents, pack_max,
                                 overage_single_cents, overage_bundle_cents)
           VALUES ($1, $2, $3::date, $4, $5, $6, $7, $8)
           ON CONFLICT (org_id) DO UPDATE SET tier = EXCLUDED.tier,
             single_cents = EXCLUDED.single_cents, bundle_cents = EXCLUDED.bundle_cents,
             pack_max = EXCLUDED.pack_max, overage_single_cents = EXCLUDED.overage_single_cents,
             overage_bundle_cents = EXCLUDED.overage_bundle_cents, updated_at = now()
           RETURNING ${ACCOUNT_COLUMNS}`,
          [
            account.orgId,
            account.tier,
            formatDay(account.anchor),
            c?.singleCents ?? null,
            c?.bundleCents ?? null,
            c ? c.packMax : null,
            c?.overageSingleCents ?? null,
            c?.overageBundleCents ?? null,
          ],
        );
        return toAccount(rows[0]!);
      });
    },

    /**
     * Appends a seat change after `accept` has seen the account and the user's history for the
     * product; a change it refuses leaves the ledger untouched. The account row is locked, so
     * changes to one org are checked and numbered one at a time.
     */
    async recordSeatChange(
      orgId: string,
      next: NewSeatEvent,
      accept: (account: BillingAccount, history: SeatEvent[]) => void,
    ): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        const account = await lockedAccount(db, orgId);
        if (!account)
          throw new NotFoundError('account_not_found', `org "${orgId}" has no billing account`);
        await lockLedger(db, orgId);
        const history = await userHistory(db, orgId, next.userId);
        accept(
          account,
          history.filter((e) => e.product === next.product),
        );
        return appendSeatEvent(db, orgId, next, null);
      });
    },

    /**
     * Brings a member's seats in the ledger to what their change event says they hold, in
     * one transaction with the record of the event applied. An event older than the last one
     * applied for the member changes nothing ('stale'); a repeated one finds nothing to change.
     * A change the ledger's history contradicts (a direct change recorded for a later time)
     * throws FailedPrecondition and writes nothing.
     */
    async applyMemberSeats(orgId: string, m: MemberSeats): Promise<MemberSeatsResult> {
      return inTenant(pool, orgId, async (db) => {
        await lockLedger(db, orgId);
        const sync = await db.query<{ last_event_at: Date }>(
          'SELECT last_event_at FROM member_sync WHERE org_id = $1 AND user_id = $2',
          [orgId, m.userId],
        );
        const last = sync.rows[0]?.last_event_at;
        if (last && last.getTime() > m.at.getTime()) return { applied: false, reason: 'stale' };
        const history = await userHistory(db, orgId, m.userId);
        const changes = seatChangesFor(m.userId, m.held, history, m.at);
        for (const c of changes) {
          checkSeatChange(
            history.filter((e) => e.product === c.product),
            c,
          );
          await appendSeatEvent(db, orgId, c, m.eventId);
        }
        await db.query(
          `INSERT INTO member_sync (org_id, user_id, last_event_at, last_event_id)
           VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, user_id) DO UPDATE
             SET last_event_at = EXCLUDED.last_event_at, last_event_id = EXCLUDED.last_event_id`,
          [orgId, m.userId, m.at, m.eventId],
        );
        return { applied: true, changes };
      });
    },

    /** The org's seat changes effective before the end of `lastDay` (UTC), in ledger order. */
    async seatEvents(orgId: string, lastDay: Day): Promise<SeatEvent[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<EventRow>(
          `SELECT seq, user_id, product, change, effective_at FROM seat_events
           WHERE org_id = $1 AND effective_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
           ORDER BY effective_at, seq`,
          [orgId, formatDay(lastDay)],
        );
        return rows.map(toEvent);
      });
    },
  };
}

/** Billing's store. */
export type BillingStore = ReturnType<typeof createBillingStore>;
