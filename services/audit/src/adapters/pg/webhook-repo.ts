import type pg from 'pg';
import { inTenant, type Queryable } from '@fortress/kit/pg';
import type { AuditRow } from '../../domain/audit-row.js';
import type { Sealed } from '../keys/secret-box.js';
import { appendInTenant } from './chain-writer.js';

/** A subscription's metadata: what any API may show. */
export interface Subscription {
  orgId: string;
  id: string;
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
  secretVersion: number;
  secretSetAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

/** The fields an admin sets. */
export interface SubscriptionFields {
  url: string;
  eventTypes: string[];
  description: string;
  enabled: boolean;
}

/** A sealed secret with the version its AAD names. */
export interface VersionedSecret extends Sealed {
  version: number;
}

/** The change-log row of a change, from the subscription before and after it. */
export type ChangeRow = (
  before: Subscription | undefined,
  after: Subscription | undefined,
) => AuditRow;

const COLUMNS = `org_id, id, url, event_types, description, enabled, secret_version, secret_set_at,
  created_at, updated_at`;

interface Row {
  org_id: string;
  id: string;
  url: string;
  event_types: string[];
  description: string;
  enabled: boolean;
  secret_version: number;
  secret_set_at: Date;
  created_at: Date;
  updated_at: Date;
}

const toSubscription = (r: Row): Subscription => ({
  orgId: r.org_id,
  id: r.id,
  url: r.url,
  eventTypes: r.event_types,
  description: r.description,
  enabled: r.enabled,
  secretVersion: r.secret_version,
  secretSetAt: r.secret_set_at,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

async function lockOne(
  db: Queryable,
  orgId: string,
  id: string,
): Promise<Subscription | undefined> {
  const { rows } = await db.query<Row>(
    `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE org_id = $1 AND id = $2 FOR UPDATE`,
    [orgId, id],
  );
  return rows[0] && toSubscription(rows[0]);
}

/**
 * Webhook subscriptions in PostgreSQL. Every change appends its change-log row to the org's
 * chain in the same transaction, so a subscription never changes unrecorded. Reads return
 * metadata only: the secret columns are read by `signingKeys` alone.
 */
export function createWebhookRepo(pool: pg.Pool, now: () => Date = () => new Date()) {
  const record = (db: Queryable, orgId: string, row: AuditRow) =>
    appendInTenant(db, orgId, [row], now());

  return {
    /** Stores a new subscription with its sealed secret (version 1). */
    async create(
      orgId: string,
      id: string,
      fields: SubscriptionFields,
      secret: VersionedSecret,
      change: ChangeRow,
    ): Promise<Subscription> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Row>(
          `INSERT INTO webhook_subscriptions (org_id, id, url, event_types, description, enabled,
             secret_key_id, secret_ciphertext, secret_version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${COLUMNS}`,
          [
            orgId,
            id,
            fields.url,
            fields.eventTypes,
            fields.description,
            fields.enabled,
            secret.keyId,
            secret.ciphertext,
            secret.version,
          ],
        );
        const created = toSubscription(rows[0] as Row);
        await record(db, orgId, change(undefined, created));
        return created;
      });
    },

    /** One subscription, or undefined. */
    async get(orgId: string, id: string): Promise<Subscription | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Row>(
          `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE org_id = $1 AND id = $2`,
          [orgId, id],
        );
        return rows[0] && toSubscription(rows[0]);
      });
    },

    /** Up to `limit` subscriptions after `afterId` ("" from the start), by id. */
    async list(orgId: string, afterId: string, limit: number): Promise<Subscription[]> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<Row>(
          `SELECT ${COLUMNS} FROM webhook_subscriptions WHERE org_id = $1 AND id COLLATE "C" > $2
           ORDER BY id COLLATE "C" LIMIT $3`,
          [orgId, afterId, limit],
        );
        return rows.map(toSubscription);
      });
    },

    /** Applies `patch` to the subscription; undefined when there is none. */
    async update(
      orgId: string,
      id: string,
      patch: (before: Subscription) => SubscriptionFields,
      change: ChangeRow,
    ): Promise<Subscription | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const before = await lockOne(db, orgId, id);
        if (!before) return undefined;
        const f = patch(before);
        const { rows } = await db.query<Row>(
          `UPDATE webhook_subscriptions SET url = $3, event_types = $4, description = $5,
             enabled = $6, updated_at = now()
           WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
          [orgId, id, f.url, f.eventTypes, f.description, f.enabled],
        );
        const after = toSubscription(rows[0] as Row);
        await record(db, orgId, change(before, after));
        return after;
      });
    },

    /** Deletes the subscription (its deliveries go with it); false when there was none. */
    async delete(orgId: string, id: string, change: ChangeRow): Promise<boolean> {
      return inTenant(pool, orgId, async (db) => {
        const before = await lockOne(db, orgId, id);
        if (!before) return false;
        await db.query('DELETE FROM webhook_subscriptions WHERE org_id = $1 AND id = $2', [
          orgId,
          id,
        ]);
        await record(db, orgId, change(before, undefined));
        return true;
      });
    },

    /**
     * Replaces the secret with the one `seal` makes for the next version; the current one
     * becomes the previous secret, which keeps signing until `overlapMs` from now.
     */
    async rotate(
      orgId: string,
      id: string,
      seal: (version: number) => Sealed,
      overlapMs: number,
      change: ChangeRow,
    ): Promise<Subscription | undefined> {
      return inTenant(pool, orgId, async (db) => {
        const before = await lockOne(db, orgId, id);
        if (!before) return undefined;
        const version = before.secretVersion + 1;
        const sealed = seal(version);
        const { rows } = await db.query<Row>(
          `UPDATE webhook_subscriptions SET
             previous_secret_key_id = secret_key_id,
             previous_secret_ciphertext = secret_ciphertext,
             previous_secret_until = now() + ($3 || ' milliseconds')::interval,
             secret_key_id = $4, secret_ciphertext = $5, secret_version = $6,
             secret_set_at = now(), updated_at = now()
           WHERE org_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
          [orgId, id, String(overlapMs), sealed.keyId, sealed.ciphertext, version],
        );
        const after = toSubscription(rows[0] as Row);
        await record(db, orgId, change(before, after));
        return after;
      });
    },
  };
}

/** The webhook subscription repository. */
export type WebhookRepo = ReturnType<typeof createWebhookRepo>;
