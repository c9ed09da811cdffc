import { compileRoles } from './compile.js';
import type { OrgPolicy } from './model.js';

/** Where org models come from. */
export interface ModelSource {
  version(orgId: string): Promise<number>;
  load(orgId: string): Promise<OrgPolicy>;
}

/** Where compiled policy sets go. */
export interface PolicyLoader {
  load(orgId: string, version: number, policies: Record<string, string>): void;
}

/**
 * Keeps each org's compiled policy set loaded and fresh. A loaded version is trusted for
 * `freshnessMs`; after that the next decision re-reads the version (one query) and reloads
 * only if it changed. So an edit reaches every replica within `freshnessMs` plus one query.
 * Concurrent refreshes of one org share one load.
 */
export function createPolicyCache(options: {
  source: ModelSource;
  engine: PolicyLoader;
  freshnessMs: number;
}) {
  const state = new Map<string, { version: number; checkedAt: number }>();
  const inflight = new Map<string, Promise<number>>();

  const refresh = async (orgId: string): Promise<number> => {
    const known = state.get(orgId);
    const version = await options.source.version(orgId);
    if (!known || known.version !== version) {
      const model = await options.source.load(orgId);
      options.engine.load(orgId, model.version, compileRoles(model.roles));
      state.set(orgId, { version: model.version, checkedAt: Date.now() });
      return model.version;
    }
    state.set(orgId, { version, checkedAt: Date.now() });
    return version;
  };

  return {
    /** Makes sure the org's current policy set is loaded; resolves to its version. */
    async ensure(orgId: string): Promise<number> {
      const known = state.get(orgId);
      if (known && Date.now() - known.checkedAt < options.freshnessMs) return known.version;
      let pending = inflight.get(orgId);
      if (!pending) {
        pending = refresh(orgId).finally(() => inflight.delete(orgId));
        inflight.set(orgId, pending);
      }
      return pending;
    },

    /** Forgets an org so its next decision reloads (after a local edit). */
    invalidate(orgId: string): void {
      state.delete(orgId);
    },
  };
}

/** The policy cache. */
export type PolicyCache = ReturnType<typeof createPolicyCache>;
