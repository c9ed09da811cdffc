import { toBinary } from '@bufbuild/protobuf';
import type pg from 'pg';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import { AlreadyExistsError } from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import {
  MEMBER_ID_PREFIX,
  type Member,
  type MemberInput,
  type SeatProduct,
} from '../../domain/member.js';

interface MemberRow {
  id: string;
  external_id: string | null;
  email: string;
  display_name: string;
  products: SeatProduct[];
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, external_id, email, display_name, products, active, created_at, updated_at';

const toMember = (r: MemberRow): Member => ({
  id: r.id,
  externalId: r.external_id ?? '',
  email: r.email,
  displayName: r.display_name,
  products: [...r.products].sort(),
  active: r.active,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function lockedMember(db: Queryable, orgId: string, id: string) {
  const { rows } = await db.query<MemberRow>(
    `SELECT ${COLUMNS} FROM members WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [orgId, id],
  );
  return rows[0] && toMember(rows[0]);
}

const enqueue = (db: Queryable, orgId: string, event: EventEnvelope) =>
  db.query('INSERT INTO member_outbox (org_id, envelope) VALUES ($1, $2)', [
    orgId,
    Buffer.from(toBinary(EventEnvelopeSchema, event)),
  ]);

/** The member that already has an external id (a unique violation of it). */
function externalIdTaken(err: unknown, externalId: string): never {
  if ((err as { constraint?: string }).constraint === 'members_org_id_external_id_key')
    throw new AlreadyExistsError(
      'external_id_taken',
      `another member of the org has external_id "${externalId.slice(0, 64)}"`,
    );
  throw err;
}

/** Writes a member's row (insert or replace by id). */
async function writeMember(db: Queryable, orgId: string, id: string, m: MemberInput, at: Date) {
  try {
    const { rows } = await db.query<MemberRow>(
      `INSERT INTO members (org_id, id, external_id, email, display_name, products, active,
                            created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
       ON CONFLICT (org_id, id) DO UPDATE SET external_id = EXCLUDED.external_id,
         email = EXCLUDED.email, display_name = EXCLUDED.display_name,
         products = EXCLUDED.products, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at
       RETURNING ${COLUMNS}`,
      [orgId, id, m.externalId || null, m.email, m.displayName, m.products, m.active, at],
    );
    return toMember(rows[0]!);
  } catch (err) {
    return externalIdTaken(err, m.externalId);
  }
}

/**
 * Members and their change events on PostgreSQL. A write and its event commit together (the
 * outbox); `drainOutbox` hands events to JetStream and deletes what was acknowledged.
 */
export function createMemberStore(pool: pg.Pool) {
  return {
    async get(orgId: string, id: string): Promise<Member | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<MemberRow>(
          `SELECT ${COLUMNS} FROM members WHERE org_id = $1 AND id = $2`,
          [orgId, id],
        );
        return rows[0] && toMember(rows[0]);
      });
    },

    /** Up to `limit` members after the id `after`, in id order. */
    async list(orgId: string, after: string, limit: number): Promise<Member[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<MemberRow>(
          `SELECT ${COLUMNS} FROM members WHERE org_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
          [orgId, after, limit],
        );
        return rows.map(toMember);
      });
    },

    /** Creates a member with its change event. */
    async create(
      orgId: string,
      id: string,
      input: MemberInput,
      at: Date,
      event: (after: Member) => EventEnvelope,
    ): Promise<Member> {
      return inTenant(pool, orgId, async (db) => {
        const after = await writeMember(db, orgId, id, input, at);
        await enqueue(db, orgId, event(after));
        return after;
      });
    },

    /**
     * Replaces a member's fields with its change event; undefined when there is no such
     * member. Nothing is written, and no event made, when the input changes nothing.
     */
    async update(
      orgId: string,
      id: string,
      input: MemberInput,
      at: Date,
      unchanged: (before: Member) => boolean,
      event: (before: Member, after: Member) => EventEnvelope,
    ): Promise<{ before: Member; after: Member } | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const before = await lockedMember(db, orgId, id);
        if (!before) return undefined;
        if (unchanged(before)) return { before, after: before };
        const after = await writeMember(db, orgId, id, input, at);
        await enqueue(db, orgId, event(before, after));
        return { before, after };
      });
    },

    /**
     * The member an IdP user is (by external id), provisioned on first sight: an unknown user
     * becomes an active member with `products`; a known active one gains those it lacks. Each
     * such change commits with its change event. A deactivated member is returned unchanged.
     */
    async admit(
      orgId: string,
      externalId: string,
      fresh: (id: string) => MemberInput,
      products: readonly SeatProduct[],
      at: Date,
      event: (before: Member | undefined, after: Member) => EventEnvelope,
    ): Promise<{ member: Member; changed: boolean }> {
      const byExternalId = (db: Queryable, lock: string) =>
        db
          .query<MemberRow>(
            `SELECT ${COLUMNS} FROM members WHERE org_id = $1 AND external_id = $2 ${lock}`,
            [orgId, externalId],
          )
          .then((r) => r.rows[0] && toMember(r.rows[0]));
      /** A member this sign-in changes nothing for (a deactivated one included). */
      const settled = (m: Member | undefined): boolean =>
        m !== undefined && (!m.active || products.every((p) => m.products.includes(p)));
      return inTenant(pool, orgId, async (db) => {
        // Nearly every request finds its member as it should be: a plain read, no row lock, so
        // one user's concurrent requests do not queue behind each other.
        const seen = await byExternalId(db, '');
        if (seen && settled(seen)) return { member: seen, changed: false };
        const before = await byExternalId(db, 'FOR UPDATE');
        if (before && settled(before)) return { member: before, changed: false };
        const id = before?.id ?? newId(MEMBER_ID_PREFIX);
        const input: MemberInput = before
          ? { ...before, products: [...new Set([...before.products, ...products])].sort() }
          : fresh(id);
        const after = await writeMember(db, orgId, id, input, at);
        await enqueue(db, orgId, event(before, after));
        return { member: after, changed: true };
      });
    },

    /** Removes a member with its change event; undefined when there was none. */
    async remove(
      orgId: string,
      id: string,
      event: (before: Member) => EventEnvelope,
    ): Promise<Member | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const before = await lockedMember(db, orgId, id);
        if (!before) return undefined;
        await db.query('DELETE FROM members WHERE org_id = $1 AND id = $2', [orgId, id]);
        await enqueue(db, orgId, event(before));
        return before;
      });
    },

    /**
     * Publishes up to `limit` of an org's waiting events in order and deletes them once all
     * were acknowledged; a publish that fails leaves them all for the next drain (a repeat is
     * harmless: consumers dedupe by event id). One drain per org at a time, across replicas
     * (an advisory lock), so an org's events reach the stream in the order they were made.
     * Returns how many were published.
     */
    async drainOutbox(
      orgId: string,
      limit: number,
      publish: (envelope: Uint8Array) => Promise<void>,
    ): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        const lock = await db.query<{ ok: boolean }>(
          "SELECT pg_try_advisory_xact_lock(hashtext('member_outbox:' || $1)) AS ok",
          [orgId],
        );
        if (!lock.rows[0]?.ok) return 0;
        const { rows } = await db.query<{ seq: string; envelope: Buffer }>(
          `SELECT seq::text AS seq, envelope FROM member_outbox WHERE org_id = $1
           ORDER BY seq LIMIT $2`,
          [orgId, limit],
        );
        for (const r of rows) await publish(r.envelope);
        if (rows.length > 0)
          await db.query(
            'DELETE FROM member_outbox WHERE org_id = $1 AND seq = ANY($2::bigint[])',
            [orgId, rows.map((r) => r.seq)],
          );
        return rows.length;
      });
    },

    /** Orgs with events waiting (the relay's sweep). */
    async outboxOrgs(limit: number): Promise<string[]> {
      const { rows } = await pool.query<{ org_id: string }>(
        'SELECT org_id FROM member_outbox_orgs($1)',
        [limit],
      );
      return rows.map((r) => r.org_id);
    },
  };
}

/** The member store. */
export type MemberStore = ReturnType<typeof createMemberStore>;
