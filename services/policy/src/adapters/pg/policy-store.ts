import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import { EMPTY_MODEL, type OrgModel, type OrgPolicy } from '../../domain/model.js';

/** The result of an edit: the new version and the model before and after. */
export interface Edit {
  version: number;
  before: OrgModel;
  after: OrgModel;
}

/** Policy's PostgreSQL store: one versioned model document per org. */
export function createPolicyStore(pool: pg.Pool) {
  const read = async (
    db: Pick<pg.PoolClient, 'query'>,
    orgId: string,
    lock: boolean,
  ): Promise<OrgPolicy> => {
    const { rows } = await db.query<{ version: string; model: OrgModel }>(
      `SELECT version, model FROM models WHERE org_id = $1${lock ? ' FOR UPDATE' : ''}`,
      [orgId],
    );
    const row = rows[0];
    return row
      ? { orgId, version: Number(row.version), model: { ...EMPTY_MODEL, ...row.model } }
      : { orgId, version: 0, model: EMPTY_MODEL };
  };

  return {
    /** The org's current version (0 when it has never been edited). */
    async version(orgId: string): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ version: string }>(
          'SELECT version FROM models WHERE org_id = $1',
          [orgId],
        );
        return rows[0] ? Number(rows[0].version) : 0;
      });
    },

    /** The org's model at its current version. */
    load(orgId: string): Promise<OrgPolicy> {
      return inTenant(pool, orgId, (db) => read(db, orgId, false));
    },

    /**
     * Applies an edit under the org's row lock, so concurrent edits serialise: `change` gets
     * the current model and returns the next one (or throws to refuse it, changing nothing);
     * the result is saved as the next version once `beforeCommit` (the change event) succeeds.
     */
    async edit(
      orgId: string,
      actor: string,
      change: (current: OrgModel) => OrgModel,
      beforeCommit: (edit: Edit) => Promise<void>,
    ): Promise<Edit> {
      return inTenant(pool, orgId, async (db) => {
        await db.query(
          `INSERT INTO models (org_id, version, model) VALUES ($1, 0, $2) ON CONFLICT (org_id) DO NOTHING`,
          [orgId, JSON.stringify(EMPTY_MODEL)],
        );
        const current = await read(db, orgId, true);
        const next = change(current.model);
        const { rows } = await db.query<{ version: string }>(
          `UPDATE models SET version = version + 1, model = $2, updated_at = now(), updated_by = $3
           WHERE org_id = $1 RETURNING version`,
          [orgId, JSON.stringify(next), actor],
        );
        const edit = { version: Number(rows[0]?.version), before: current.model, after: next };
        // Inside the transaction: if the change event cannot be published, nothing changes.
        await beforeCommit(edit);
        return edit;
      });
    },
  };
}

/** Policy's store. */
export type PolicyStore = ReturnType<typeof createPolicyStore>;
