import assert from 'node:assert/strict';
import { EMPTY_MODEL, type OrgModel, type OrgPolicy } from '../../src/domain/model.js';
import { createPolicyCache } from '../../src/domain/policy-cache.js';
import { memorySource, recordingLoader } from '../support/memory-source.js';

const ORG = 'org_p';
const HOUR = 3_600_000;
const allowing = (model: string): OrgModel => ({
  ...EMPTY_MODEL,
  roles: [
    {
      name: 'dev',
      description: '',
      grants: [{ resourceType: 'model', resourceId: model, effect: 'allow' }],
    },
  ],
});
const at = (version: number, model = allowing('*')): OrgPolicy => ({ orgId: ORG, version, model });

function setup(freshnessMs = HOUR, initial = at(3)) {
  const source = memorySource({ [ORG]: initial });
  const engine = recordingLoader();
  const cache = createPolicyCache({ source, engine, freshnessMs });
  return { source, engine, cache };
}

describe('createPolicyCache', () => {
  it('loads, compiles and preparses an org on first use', async () => {
    const { source, engine, cache } = setup();
    const loaded = await cache.ensure(ORG);
    assert.equal(loaded.version, 3);
    assert.deepEqual(engine.loads, [{ orgId: ORG, ids: ['role/dev/allow/model/*'] }]);
    assert.equal(source.loadCalls, 1);
    assert.equal(cache.loadedVersion(ORG), 3);
  });

  it('loads an org once for many concurrent first uses (single flight)', async () => {
    const { source, engine, cache } = setup();
    source.hold();
    const pending = Array.from({ length: 10 }, () => cache.ensure(ORG));
    source.release();
    const versions = (await Promise.all(pending)).map((p) => p.version);
    assert.deepEqual(versions, Array<number>(10).fill(3));
    assert.equal(source.loadCalls, 1);
    assert.equal(engine.loads.length, 1);
  });

  it('serves a loaded version within the freshness bound without asking the source', async () => {
    const { source, cache } = setup();
    await cache.ensure(ORG);
    source.edit(ORG, allowing('claude-haiku-4-5'));
    assert.equal((await cache.ensure(ORG)).version, 3);
    assert.equal(source.versionCalls, 0);
  });

  it('re-checks the version once the freshness bound has passed, loading only when it changed', async () => {
    const { source, engine, cache } = setup(0);
    await cache.ensure(ORG);
    assert.equal((await cache.ensure(ORG)).version, 3);
    assert.deepEqual(
      [source.versionCalls, source.loadCalls],
      [1, 1],
      'unchanged: one version query, no load',
    );
    source.edit(ORG, allowing('claude-haiku-4-5'));
    assert.equal((await cache.ensure(ORG)).version, 4);
    assert.deepEqual([source.versionCalls, source.loadCalls, engine.loads.length], [2, 2, 2]);
  });

  it('loads an announced version at once, inside the freshness bound', async () => {
    const { source, engine, cache } = setup();
    await cache.ensure(ORG);
    source.edit(ORG, allowing('claude-haiku-4-5'));
    await cache.refresh(ORG, 4);
    assert.equal((await cache.ensure(ORG)).version, 4);
    assert.deepEqual(engine.loads.at(-1)?.ids, ['role/dev/allow/model/claude-haiku-4-5']);
  });

  it('ignores an announcement of a version already loaded', async () => {
    const { source, cache } = setup();
    await cache.ensure(ORG);
    await cache.refresh(ORG, 3);
    await cache.refresh(ORG, 2);
    assert.deepEqual([source.versionCalls, source.loadCalls], [0, 1]);
  });

  it('loads the announced version even when a check that read the old version is in flight', async () => {
    const { source, cache } = setup(0);
    await cache.ensure(ORG);
    source.hold();
    const check = cache.ensure(ORG); // reads version 3, answer delayed
    source.edit(ORG, allowing('claude-haiku-4-5'));
    const refresh = cache.refresh(ORG, 4);
    source.release();
    await Promise.all([check, refresh]);
    assert.equal(cache.loadedVersion(ORG), 4);
  });

  it('never replaces a newer version with an older one read from a lagging source', async () => {
    const { source, cache } = setup();
    await cache.ensure(ORG);
    source.edit(ORG, allowing('claude-haiku-4-5'), 2); // a stale read after failover
    await cache.refresh(ORG);
    assert.equal(cache.loadedVersion(ORG), 3);
    assert.deepEqual((await cache.ensure(ORG)).model, allowing('*'));
  });

  it('keeps the previous version when a new one cannot be loaded, and retries next time', async () => {
    const { source, engine, cache } = setup();
    await cache.ensure(ORG);
    source.edit(ORG, allowing('claude-haiku-4-5'));
    source.failNextLoad = true;
    await assert.rejects(cache.refresh(ORG, 4), /database unavailable/);
    engine.failNext = true;
    await assert.rejects(cache.refresh(ORG, 4), /does not parse/);
    assert.equal(cache.loadedVersion(ORG), 3);
    await cache.refresh(ORG, 4);
    assert.equal(cache.loadedVersion(ORG), 4);
  });

  it('starts an org never edited at version 0 with nothing allowed', async () => {
    const source = memorySource();
    const cache = createPolicyCache({ source, engine: recordingLoader(), freshnessMs: HOUR });
    const loaded = await cache.ensure('org_new');
    assert.deepEqual(
      { version: loaded.version, model: loaded.model },
      { version: 0, model: EMPTY_MODEL },
    );
  });
});
