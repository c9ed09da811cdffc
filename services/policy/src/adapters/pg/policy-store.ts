import type pg from 'pg';
import { inTenant } from '@fortress/kit/pg';
import type { OrgPolicy, RoleModel } from '../../domain/model.js';

/** Policy's PostgreSQL store of org models. */
export function createPolicyStore(pool: pg.Pool) {
  return {
    /** The org's current version (0 when it has never been edited). */
    async version(orgId: string): Promise<number> {
      return inTenant(pool, orgId, async (db) => {
        const { rows } = await db.query<{ version: string }>(
          'SELECT version FROM versions WHERE org_id = $1',
          [orgId],
        );
        return rows[0] ? Number(rows[0].version) : 0;
      });
    },

    /** The org's whole model at its current version, read in one transaction. */
    async load(orgId: string): Promise<OrgPolicy> {
      return inTenant(pool, orgId, async (db) => {
        const v = await db.query<{ version: string }>(
          'SELECT version FROM versions WHERE org_id = $1',
          [orgId],
        );
        const r = await db.query<{
          name: string;
          description: string;
          grants: RoleModel['grants'];
        }>('SELECT name, description, grants FROM roles WHERE org_id = $1 ORDER BY name', [orgId]);
        return { orgId, version: v.rows[0] ? Number(v.rows[0].version) : 0, roles: r.rows };
      });
    },

    /**
     * Saves a role if `check` accepts the resulting model, and bumps the version, all in one
     * transaction (the row lock on the version serialises concurrent edits of one org).
     */
    async putRole(
      orgId: string,
      role: RoleModel,
      check: (roles: RoleModel[]) => void,
    ): Promise<{ version: number; before: RoleModel | undefined }> {
      return inTenant(pool, orgId, async (db) => {
        const { rows: vrows } = await db.query<{ version: string }>(
          `INSERT INTO versions (org_id, version) VALUES ($1, 1)
           ON CONFLICT (org_id) DO UPDATE SET version = versions.version + 1, updated_at = now()
           RETURNING version`,
          [orgId],
        );
        const { rows } = await db.query<RoleModel>(
          'SELECT name, description, grants FROM roles WHERE org_id = $1 ORDER BY name',
          [orgId],
        );
        const before = rows.find((r) => r.name === role.name);
        check([...rows.filter((r) => r.name !== role.name), role]);
        await db.query(
          `INSERT INTO roles (org_id, name, description, grants) VALUES ($1, $2, $3, $4)
           ON CONFLICT (org_id, name) DO UPDATE SET description = $3, grants = $4, updated_at = now()`,
          [orgId, role.name, role.description, JSON.stringify(role.grants)],
        );
        return { version: Number(vrows[0]?.version), before };
      });
    },
  };
}

/** Policy's store. */
export type PolicyStore = ReturnType<typeof createPolicyStore>;
