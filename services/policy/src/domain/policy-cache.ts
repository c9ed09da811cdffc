import { compileModel, type CompiledPolicy } from './compile.js';
import type { OrgModel, OrgPolicy } from './model.js';

/** Where org models come from. */
export interface ModelSource {
  version(orgId: string): Promise<number>;
  load(orgId: string): Promise<OrgPolicy>;
}

/** Where compiled policy sets are loaded for evaluation. */
export interface PolicyLoader {
  load(orgId: string, compiled: CompiledPolicy): void;
}

/** An org's policy as decisions use it. */
export interface LoadedPolicy {
  version: number;
  model: OrgModel;
  compiled: CompiledPolicy;
}

/**
 * Keeps each org's compiled policy set loaded. Changes arrive by broadcast (`refresh`); as a
 * safety net, a version older than `freshnessMs` is re-checked (one query) before use. A new
 * version is compiled and preparsed first and swapped in within one synchronous step, so a
 * decision sees either the old version or the new one, never a mix. Concurrent loads of one
 * org share one load.
 */
export function createPolicyCache(options: {
  source: ModelSource;
  engine: PolicyLoader;
  freshnessMs: number;
}) {
  const state = new Map<string, LoadedPolicy & { checkedAt: number }>();
  const inflight = new Map<string, Promise<LoadedPolicy>>();

  const reload = async (orgId: string, force: boolean): Promise<LoadedPolicy> => {
    const known = state.get(orgId);
    if (known && !force && (await options.source.version(orgId)) === known.version) {
      known.checkedAt = Date.now();
      return known;
    }
    const policy = await options.source.load(orgId);
    const current = state.get(orgId);
    if (current && current.version > policy.version) return current; // a newer load won
    const compiled = compileModel(policy.model);
    options.engine.load(orgId, compiled);
    const entry = { version: policy.version, model: policy.model, compiled, checkedAt: Date.now() };
    state.set(orgId, entry);
    return entry;
  };

  const once = (orgId: string, force: boolean): Promise<LoadedPolicy> => {
    let pending = inflight.get(orgId);
    if (!pending) {
      pending = reload(orgId, force).finally(() => inflight.delete(orgId));
      inflight.set(orgId, pending);
    }
    return pending;
  };

  return {
    /** The org's loaded policy, current within the freshness bound. */
    async ensure(orgId: string): Promise<LoadedPolicy> {
      const known = state.get(orgId);
      if (known && Date.now() - known.checkedAt < options.freshnessMs) return known;
      return once(orgId, false);
    },

    /** Loads the org's latest version now (a change was announced, or saved here). */
    async refresh(orgId: string, atLeast = 0): Promise<void> {
      const known = state.get(orgId);
      // An org this replica has not loaded needs nothing: its first decision loads it fresh.
      if (!known && !inflight.has(orgId)) return;
      if (known && known.version >= atLeast && atLeast > 0) return;
      // A load already in flight may have read the database before this version was saved.
      if ((await once(orgId, true)).version < atLeast) await once(orgId, true);
    },

    /** The version loaded for an org, if any. */
    loadedVersion(orgId: string): number | undefined {
      return state.get(orgId)?.version;
    },
  };
}

/** The policy cache. */
export type PolicyCache = ReturnType<typeof createPolicyCache>;
