import { toBinary } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type { Queryable } from '@fortress/kit/pg';

/** The background work an org can have due (columns of org_work). */
export type WorkField = 'rotation_due_at' | 'rewrap_due_at' | 'sweep_due_at' | 'outbox_due_at';

/** Work to mark due: at a time (or now), keeping an earlier due time or replacing it. */
export interface WorkMark {
  field: WorkField;
  at: Date | 'now';
  mode: 'earliest' | 'set';
}

const FIELDS: readonly WorkField[] = [
  'rotation_due_at',
  'rewrap_due_at',
  'sweep_due_at',
  'outbox_due_at',
];

/**
 * Marks work due for an org, inside the caller's transaction (so the mark commits with the
 * change that needs it) and bumps the row's generation.
 */
export async function markWork(db: Queryable, orgId: string, marks: WorkMark[]): Promise<void> {
  if (marks.length === 0) return;
  const values: unknown[] = [orgId];
  const cols: string[] = [];
  const params: string[] = [];
  const sets: string[] = ['gen = org_work.gen + 1'];
  for (const m of marks) {
    if (!FIELDS.includes(m.field)) throw new Error(`unknown work field ${m.field}`);
    values.push(m.at === 'now' ? null : m.at);
    const p = `coalesce($${values.length}::timestamptz, now())`;
    cols.push(m.field);
    params.push(p);
    sets.push(
      m.mode === 'set'
        ? `${m.field} = EXCLUDED.${m.field}`
        : `${m.field} = LEAST(org_work.${m.field}, EXCLUDED.${m.field})`,
    );
  }
  await db.query(
    `INSERT INTO org_work (org_id, ${cols.join(', ')}) VALUES ($1, ${params.join(', ')})
     ON CONFLICT (org_id) DO UPDATE SET ${sets.join(', ')}`,
    values,
  );
}

/** Stores events in the outbox, inside the caller's transaction, and marks the relay due. */
export async function addEvents(
  db: Queryable,
  orgId: string,
  events: readonly EventEnvelope[],
): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    'INSERT INTO outbox (org_id, envelope) SELECT $1, e FROM unnest($2::bytea[]) AS e',
    [orgId, events.map((e) => Buffer.from(toBinary(EventEnvelopeSchema, e)))],
  );
  await markWork(db, orgId, [{ field: 'outbox_due_at', at: 'now', mode: 'earliest' }]);
}

/** The PostgreSQL error code of a foreign-key violation. */
export const FOREIGN_KEY_VIOLATION = '23503';

/** True when `err` is a PostgreSQL error with this code. */
export function pgCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}
