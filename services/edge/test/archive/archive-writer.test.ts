import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '@fortress/kit/log';
import {
  archiveObjectKey,
  findRecord,
  openRecord,
  sealObject,
} from '../../src/archive/archive-crypto.js';
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
    segmentMaxAgeMs: 50,
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

/** Every record stored so far, by request id (opened with KEY). */
function storedRecords(stored: Map<string, string>): Map<string, { n: number; prompt: string }> {
  const out = new Map<string, { n: number; prompt: string }>();
  for (const [objectKey, body] of stored) {
    assert.match(objectKey, /^pat\/org_[a-z]+\/\d{8}T\d{6}Z-[0-9a-f]{12}\.jsonl$/);
    for (const line of body.split('\n').filter(Boolean)) {
      const r = findRecord(line, (JSON.parse(line) as { request_id: string }).request_id);
      assert.ok(r);
      assert.ok(!out.has(r.request_id), `${r.request_id} stored twice`);
      out.set(r.request_id, JSON.parse(openRecord(r, KEY.bytes).toString()) as never);
    }
  }
  return out;
}

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
    const objectKey = w.writer.add({ ...entry(1, 'org_zt'), key: own });
    await until(() => w.stored.size === 1, 'stored');
    const sealed = findRecord(w.stored.get(objectKey ?? '') ?? '', 'req_0001');
    assert.ok(sealed);
    assert.equal((JSON.parse(openRecord(sealed, copy).toString()) as { n: number }).n, 1);
    assert.equal(asked, 0);
    assert.ok(
      own.bytes.every((b) => b === 0),
      'the key is zeroed',
    );
    await w.writer.close();
  });

  it('stores many records in few objects, each in the segment add named, sealed and bound to its org and request', async () => {
    const w = world({ segmentMaxRecords: 10 });
    await w.writer.start();
    const named = new Map<string, string>();
    for (let i = 0; i < 25; i++) named.set(entry(i).requestId, w.writer.add(entry(i)) ?? '');
    await until(() => storedRecords(w.stored).size === 25, 'all 25 stored');
    assert.ok(w.stored.size >= 3 && w.stored.size < 25, `${w.stored.size} objects for 25`);
    for (const [requestId, objectKey] of named)
      assert.ok(findRecord(w.stored.get(objectKey) ?? '', requestId), `${requestId} where named`);
    const text = w.stored.get(named.get('req_0007') ?? '') ?? '';
    assert.ok(!text.includes('secret prompt'));
    const sealed = findRecord(text, 'req_0007');
    assert.ok(sealed);
    assert.deepEqual(JSON.parse(openRecord(sealed, KEY.bytes).toString()), {
      n: 7,
      prompt: 'secret prompt 7',
    });
    assert.throws(() => openRecord(sealed, randomBytes(32)), 'another key opens it');
    assert.throws(() => openRecord({ ...sealed, org_id: 'org_b' }, KEY.bytes), 'another org');
    assert.throws(() => openRecord({ ...sealed, request_id: 'req_0008' }, KEY.bytes), 'swapped');
    await until(() => readdirSync(w.deps.spoolDir).length === 0, 'the spool emptied');
    await w.writer.close();
  });

  it('closes a segment by age: a lone record is stored without waiting for others', async () => {
    const w = world({ segmentMaxAgeMs: 100 });
    await w.writer.start();
    w.writer.add(entry(1));
    await until(() => w.stored.size === 1, 'stored by age');
    await w.writer.close();
  });

  it('stores the segment still open when it stops, so a stopped edge leaves nothing behind', async () => {
    const w = world({ segmentMaxAgeMs: 60_000 });
    await w.writer.start();
    w.writer.add(entry(1));
    w.writer.add(entry(2));
    await w.writer.close();
    assert.equal(storedRecords(w.stored).size, 2);
    assert.deepEqual(readdirSync(w.deps.spoolDir), []);
  });

  it('keeps sealed records on disk through an outage, says it is behind, and stores them after', async () => {
    const w = world();
    w.state.down = true;
    await w.writer.start();
    for (let i = 0; i < 5; i++) w.writer.add(entry(i, i % 2 ? 'org_a' : 'org_b'));
    const lines = () =>
      readdirSync(w.deps.spoolDir)
        .map((f) => readFileSync(join(w.deps.spoolDir, f), 'utf8'))
        .join('')
        .split('\n')
        .filter(Boolean);
    await until(() => lines().length === 5, 'five sealed on disk');
    assert.ok(!lines().some((l) => l.includes('secret prompt')));
    await until(() => w.notes.length === 2, 'both orgs told');
    assert.deepEqual(w.notes.map(([o, t]) => `${o} ${t}`).sort(), [
      'org_a archive.behind',
      'org_b archive.behind',
    ]);
    w.state.down = false;
    await until(() => storedRecords(w.stored).size === 5, 'all stored once the store is back');
    await w.writer.close();
  });

  it('resumes what a previous process left in the spool: closed segments, one left open, and objects of the old format', async () => {
    const first = world({ segmentMaxAgeMs: 60_000 });
    first.state.down = true;
    await first.writer.start();
    for (let i = 0; i < 3; i++) first.writer.add(entry(i));
    // Sealed into a segment still open (it is young) when the process goes.
    const spool = first.deps.spoolDir;
    await until(() => readdirSync(spool).some((f) => f.endsWith('.open')), 'an open segment');
    await until(
      () => readFileSync(join(spool, readdirSync(spool)[0] ?? ''), 'utf8').split('\n').length === 4,
      'three lines in it',
    );
    // A record spooled by the previous version of the writer: an object of its own.
    const oldKey = archiveObjectKey('org_a', 'req_old1');
    writeFileSync(
      join(spool, 'org_a__req_old1.json'),
      JSON.stringify(sealObject(Buffer.from('{"old":true}'), KEY, 'org_a', oldKey)),
    );
    const second = world({ spoolDir: spool });
    await second.writer.start();
    await until(() => second.stored.size === 2, 'the next process stored both');
    assert.ok(second.stored.has(oldKey));
    assert.equal(storedRecords(new Map([...second.stored].filter(([k]) => k !== oldKey))).size, 3);
    await second.writer.close();
    await first.writer.close();
  });

  it('holds records while no key can be had, and refuses (loudly) past its memory bound', async () => {
    let keyUp = false;
    const w = world({
      key: () => (keyUp ? Promise.resolve(KEY) : Promise.reject(new Error('vault down'))),
      maxPendingBytes: 250,
    });
    await w.writer.start();
    assert.ok(w.writer.add(entry(1)));
    assert.ok(w.writer.add(entry(2)));
    assert.equal(w.writer.add(entry(3)), undefined); // 300 bytes > 250: refused
    assert.deepEqual(w.notes, [['org_a', 'archive.record_dropped']]);
    keyUp = true;
    await until(() => storedRecords(w.stored).size === 2, 'the two held records stored');
    await w.writer.close();
  });
});
