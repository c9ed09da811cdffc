import assert from 'node:assert/strict';
import type { OrgPolicy, RoleModel } from '../../src/domain/model.js';
import {
  createPolicyCache,
  type ModelSource,
  type PolicyLoader,
} from '../../src/domain/policy-cache.js';

/** An in-memory model source whose answers can be held until released. */
function memorySource(initial: Record<string, OrgPolicy>) {
  const models = new Map(Object.entries(initial));
  const gates: Array<() => void> = [];
  let held = false;
  const wait = () =>
    held ? new Promise<void>((resolve) => gates.push(resolve)) : Promise.resolve();
  const source = {
    versionCalls: 0,
    loadCalls: 0,
    failNextLoad: false,
    async version(orgId: string): Promise<number> {
      source.versionCalls += 1;
      await wait();
      return models.get(orgId)?.version ?? 0;
    },
    async load(orgId: string): Promise<OrgPolicy> {
      source.loadCalls += 1;
      await wait();
      if (source.failNextLoad) {
        source.failNextLoad = false;
        throw new Error('database unavailable');
      }
      return models.get(orgId) ?? { orgId, version: 0, roles: [] };
    },
    /** Replaces an org's model (an edit on another replica). */
    edit(orgId: string, roles: RoleModel[]): void {
      models.set(orgId, { orgId, version: (models.get(orgId)?.version ?? 0) + 1, roles });
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

/** A loader recording what was loaded. */
function recordingLoader() {
  const loads: Array<{ orgId: string; version: number; ids: string[] }> = [];
  const loader: PolicyLoader = {
    load: (orgId, version, policies) => loads.push({ orgId, version, ids: Object.keys(policies) }),
  };
  return { loader, loads };
}

const dev: RoleModel = {
  name: 'dev',
  description: '',
  grants: [{ resourceType: 'model', resourceId: '*', effect: 'allow' }],
};
const model = (version: number): OrgPolicy => ({ orgId: 'org_p', version, roles: [dev] });
const HOUR = 3_600_000;

describe('createPolicyCache', () => {
  it('loads and compiles an org on first use', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    assert.equal(await cache.ensure('org_p'), 3);
    assert.deepEqual(loads, [{ orgId: 'org_p', version: 3, ids: ['role/dev/allow/model/*'] }]);
  });

  it('reuses a loaded version within the freshness window without asking the source', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    await cache.ensure('org_p');
    source.edit('org_p', []);
    assert.equal(await cache.ensure('org_p'), 3);
    assert.equal(source.versionCalls, 1);
    assert.equal(loads.length, 1);
  });

  it('re-reads the version but does not reload when it is unchanged after the window', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: 0 });
    await cache.ensure('org_p');
    assert.equal(await cache.ensure('org_p'), 3);
    assert.equal(source.versionCalls, 2);
    assert.equal(source.loadCalls, 1);
    assert.equal(loads.length, 1);
  });

  it('reloads when the version changed after the window', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: 0 });
    await cache.ensure('org_p');
    source.edit('org_p', []);
    assert.equal(await cache.ensure('org_p'), 4);
    assert.deepEqual(
      loads.map((l) => [l.version, l.ids.length]),
      [
        [3, 1],
        [4, 0],
      ],
    );
  });

  it('shares one refresh among concurrent callers for an org', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: 0 });
    source.hold();
    const pending = Array.from({ length: 5 }, () => cache.ensure('org_p'));
    source.release();
    assert.deepEqual(await Promise.all(pending), [3, 3, 3, 3, 3]);
    assert.equal(source.versionCalls, 1);
    assert.equal(source.loadCalls, 1);
    assert.equal(loads.length, 1);
  });

  it('forces a reload after invalidate, even within the window', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    await cache.ensure('org_p');
    source.edit('org_p', []);
    cache.invalidate('org_p');
    assert.equal(await cache.ensure('org_p'), 4);
    assert.equal(loads.length, 2);
  });

  it('rejects when loading fails, and tries again on the next call', async () => {
    const source = memorySource({ org_p: model(3) });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    source.failNextLoad = true;
    await assert.rejects(cache.ensure('org_p'), /database unavailable/);
    assert.equal(loads.length, 0);
    assert.equal(await cache.ensure('org_p'), 3);
    assert.equal(loads.length, 1);
  });

  it('does not mark a version loaded when the engine refuses it', async () => {
    const source = memorySource({ org_p: model(3) });
    let refuse = true;
    const loader: PolicyLoader = {
      load: () => {
        if (refuse) throw new Error('policy set does not parse');
      },
    };
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    await assert.rejects(cache.ensure('org_p'), /does not parse/);
    refuse = false;
    assert.equal(await cache.ensure('org_p'), 3);
    assert.equal(source.loadCalls, 2);
  });

  it('keeps orgs apart', async () => {
    const source = memorySource({
      org_p: model(3),
      org_q: { orgId: 'org_q', version: 9, roles: [] },
    });
    const { loader, loads } = recordingLoader();
    const cache = createPolicyCache({ source, engine: loader, freshnessMs: HOUR });
    assert.deepEqual(await Promise.all([cache.ensure('org_p'), cache.ensure('org_q')]), [3, 9]);
    assert.deepEqual(loads.map((l) => [l.orgId, l.version]).sort(), [
      ['org_p', 3],
      ['org_q', 9],
    ]);
  });
});
