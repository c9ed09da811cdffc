import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fortress/kit/log';
import { openRecord, type SealedObject } from '../../src/archive/archive-crypto.js';
import { createArchiveWriter, type ArchiveWriterDeps } from '../../src/archive/archive-writer.js';

const KEY = { id: 'arch_202611', bytes: randomBytes(32) };

/** A writer on a fresh spool, with an object store that fails while `down` is true. */
function world(overrides: Partial<ArchiveWriterDeps> = {}) {
  const stored = new Map<string, string>();
  const notes: Array<[string, string]> = [];
  const state = { down: false, puts: 0 };
  const deps: ArchiveWriterDeps = {
    key: () => Promise.resolve(KEY),
    put: (key, body) => {
      state.puts += 1;
      if (state.down) return Promise.reject(new Error('object store down'));
      stored.set(key, body);
      return Promise.resolve();
    },
    spoolDir: mkdtempSync(join(tmpdir(), 'spool-')),
    logger: createLogger({ service: 'test', level: 'silent' }),
    notify: (orgId, type) => notes.push([orgId, type]),
    behindRecords: 3,
    behindMs: 60_000,
    maxPendingBytes: 1024 * 1024,
    uploadConcurrency: 2,
    ...overrides,
  };
  return { deps, stored, notes, state, writer: createArchiveWriter(deps) };
}

const entry = (i: number, orgId = 'org_a') => ({
  orgId,
  requestId: `req_${String(i).padStart(4, '0')}`,
  record: { n: i, prompt: `secret prompt ${i}` },
  size: 100,
});

/** Polls until `probe` holds (the writer works on its own clock). */
async function until(probe: () => boolean, what: string) {
  for (let i = 0; i < 500 && !probe(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(probe(), what);
}

describe('archive writer', () => {
  it("seals a record that brings its own key (Zero Trust) with that key, never asks for the org's, and zeroes it once spooled", async () => {
    let asked = 0;
    const w = world({
      key: () => {
        asked += 1;
        return Promise.reject(new Error('session_required'));
      },
    });
    await w.writer.start();
    const own = { id: 'arch_202611', bytes: Buffer.from(randomBytes(32)) };
    const copy = Buffer.from(own.bytes);
    w.writer.add({ ...entry(1, 'org_zt'), key: own });
    await until(() => w.stored.size === 1, 'stored');
    const key = 'pat/org_zt/req_0001.json';
    const sealed = JSON.parse(w.stored.get(key) ?? '') as SealedObject;
    assert.equal((JSON.parse(openRecord(sealed, copy, key).toString()) as { n: number }).n, 1);
    assert.equal(asked, 0);
    assert.ok(
      own.bytes.every((b) => b === 0),
      'the key is zeroed',
    );
  });

  it('stores every record, sealed, with more records than upload slots', async () => {
    const w = world();
    await w.writer.start();
    for (let i = 0; i < 25; i++) w.writer.add(entry(i));
    await until(() => w.stored.size === 25, 'all 25 stored');
    const key = 'pat/org_a/req_0007.json';
    const sealed = JSON.parse(w.stored.get(key) ?? '') as SealedObject;
    assert.ok(!(w.stored.get(key) ?? '').includes('secret prompt'));
    assert.deepEqual(JSON.parse(openRecord(sealed, KEY.bytes, key).toString()), {
      n: 7,
      prompt: 'secret prompt 7',
    });
    assert.throws(() => openRecord(sealed, randomBytes(32), key), 'another key opens it');
    assert.throws(() => openRecord(sealed, KEY.bytes, 'pat/org_b/req_0007.json'));
    await until(() => readdirSync(w.deps.spoolDir).length === 0, 'the spool emptied');
    await w.writer.close();
  });

  it('keeps sealed records on disk through an outage, says it is behind, and stores them after', async () => {
    const w = world();
    w.state.down = true;
    await w.writer.start();
    for (let i = 0; i < 5; i++) w.writer.add(entry(i, i % 2 ? 'org_a' : 'org_b'));
    await until(() => readdirSync(w.deps.spoolDir).length === 5, 'five spooled');
    for (const f of readdirSync(w.deps.spoolDir))
      assert.ok(!readFileSync(join(w.deps.spoolDir, f), 'utf8').includes('secret prompt'));
    await until(() => w.notes.length === 2, 'both orgs told');
    assert.deepEqual(w.notes.map(([o, t]) => `${o} ${t}`).sort(), [
      'org_a archive.behind',
      'org_b archive.behind',
    ]);
    w.state.down = false;
    await until(() => w.stored.size === 5, 'all stored once the store is back');
    await w.writer.close();
  });

  it('resumes what a previous process left in the spool', async () => {
    const first = world();
    first.state.down = true;
    await first.writer.start();
    for (let i = 0; i < 3; i++) first.writer.add(entry(i));
    await until(() => readdirSync(first.deps.spoolDir).length === 3, 'three spooled');
    await first.writer.close();
    const second = world({ spoolDir: first.deps.spoolDir });
    await second.writer.start();
    await until(() => second.stored.size === 3, 'the next process stored them');
    await second.writer.close();
  });

  it('holds records while no key can be had, and refuses (loudly) past its memory bound', async () => {
    let keyUp = false;
    const w = world({
      key: () => (keyUp ? Promise.resolve(KEY) : Promise.reject(new Error('vault down'))),
      maxPendingBytes: 250,
    });
    await w.writer.start();
    w.writer.add(entry(1));
    w.writer.add(entry(2));
    w.writer.add(entry(3)); // 300 bytes > 250: refused
    assert.deepEqual(w.notes, [['org_a', 'archive.record_dropped']]);
    keyUp = true;
    await until(() => w.stored.size === 2, 'the two held records stored');
    await w.writer.close();
  });
});
