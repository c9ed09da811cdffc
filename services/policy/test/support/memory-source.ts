import type { CompiledPolicy } from '../../src/domain/compile.js';
import { EMPTY_MODEL, type OrgModel, type OrgPolicy } from '../../src/domain/model.js';
import type { ModelSource, PolicyLoader } from '../../src/domain/policy-cache.js';

/**
 * An in-memory model source. Like a database, it reads when asked and answers later: while held,
 * answers wait (with what was read when asked) until released.
 */
export function memorySource(initial: Record<string, OrgPolicy> = {}) {
  const models = new Map(Object.entries(initial));
  const gates: Array<() => void> = [];
  let held = false;
  const later = <T>(value: T): Promise<T> =>
    held ? new Promise<T>((resolve) => gates.push(() => resolve(value))) : Promise.resolve(value);
  const source = {
    versionCalls: 0,
    loadCalls: 0,
    failNextLoad: false,
    version(orgId: string): Promise<number> {
      source.versionCalls += 1;
      return later(models.get(orgId)?.version ?? 0);
    },
    load(orgId: string): Promise<OrgPolicy> {
      source.loadCalls += 1;
      if (source.failNextLoad) {
        source.failNextLoad = false;
        return Promise.reject(new Error('database unavailable'));
      }
      return later(models.get(orgId) ?? { orgId, version: 0, model: EMPTY_MODEL });
    },
    /** Saves the next version of an org's model (an edit, here or on another replica). */
    edit(orgId: string, model: OrgModel, version = (models.get(orgId)?.version ?? 0) + 1): void {
      models.set(orgId, { orgId, version, model });
    },
    hold(): void {
      held = true;
    },
    release(): void {
      held = false;
      gates.splice(0).forEach((open) => open());
    },
  } satisfies ModelSource & Record<string, unknown>;
  return source;
}

/** A loader recording what was loaded, which can be told to refuse the next load. */
export function recordingLoader() {
  const loads: Array<{ orgId: string; ids: string[] }> = [];
  const loader = {
    loads,
    failNext: false,
    load(orgId: string, compiled: CompiledPolicy): void {
      if (loader.failNext) {
        loader.failNext = false;
        throw new Error('policy set does not parse');
      }
      loads.push({
        orgId,
        ids: Object.keys(compiled.policies).filter((id) => !id.startsWith('builtin/')),
      });
    },
  } satisfies PolicyLoader & Record<string, unknown>;
  return loader;
}
