import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { createS3Client } from '../../src/adapters/s3/s3-client.js';
import { checkpointKey } from '../../src/domain/checkpoint.js';
import { signCheckpoint } from '../../src/domain/checkpoint.js';
import {
  auditRow,
  BUCKET,
  startAuditFixture,
  type AuditFixture,
} from '../support/audit-fixture.js';
import { createTamperTools, TAMPER_SQL, type TamperTools } from '../support/tamper-tools.js';

/**
 * The tamper test of issue 7: a corpus of what a database superuser can do to the log — bit
 * flips, deletes, inserts, reorders, TRUNCATE — with the append-only triggers disabled, each
 * on an org of its own, each of which Verify must detect at the first bad position.
 *
 * Every org has 34 rows: checkpoints signed at 10, 20 and 30 (in the database and the object
 * store), rows 31–34 not yet checkpointed, the chain head at 34.
 */
describe('tamper corpus: Verify finds every superuser tampering, at the first bad position', function () {
  this.timeout(300_000);
  let fx: AuditFixture;
  before(async () => {
    fx = await startAuditFixture();
    tools = createTamperTools(fx.pg.admin);
  });
  after(() => fx?.stop());

  let tools: TamperTools;
  const { row, flipFirstByte, shiftUp, insertCopyOf, swapSeqs } = TAMPER_SQL;
  // Cases are built before the fixture exists: bind to the tools only when a case runs.
  const sql =
    (...statements: Array<string | [string]>) =>
    (org: string) =>
      tools.sql(...statements)(org);
  const superuser: TamperTools['superuser'] = (statements) => tools.superuser(statements);
  const rechain: TamperTools['rechain'] = (org, from) => tools.rechain(org, from);
  const storedHash: TamperTools['storedHash'] = (org, seq) => tools.storedHash(org, seq);
  const nextHash: TamperTools['nextHash'] = (org, seq) => tools.nextHash(org, seq);

  const ROWS = 34;
  let orgs = 0;
  /** A fresh org with the standard chain; verifies before anything is done to it. */
  async function seededOrg(): Promise<string> {
    const org = `org_t${++orgs}`;
    for (const [from, to] of [
      [1, 10],
      [11, 20],
      [21, 30],
      [31, ROWS],
    ] as const) {
      await fx.writer.append(
        org,
        Array.from({ length: to - from + 1 }, (_, i) => auditRow(org, from + i)),
      );
      if (to <= 30) await fx.checkpoint(org);
    }
    const v = await fx.verify(org);
    assert.equal(v.ok, true, `fresh ${org}: ${v.failure?.problem}`);
    return org;
  }

  interface Case {
    name: string;
    tamper: (org: string) => Promise<void>;
    seq: number;
    reason: string;
  }
  const corpus: Case[] = [
    // bit flips and edits
    {
      name: 'a bit flipped in the action',
      tamper: sql(`${flipFirstByte('action')} ${row}7`),
      seq: 7,
      reason: 'hash_mismatch',
    },
    {
      name: 'a bit flipped in the stored hash',
      tamper: sql(
        `UPDATE audit.events SET hash = set_byte(hash, 5, get_byte(hash, 5) # 128) ${row}12`,
      ),
      seq: 12,
      reason: 'hash_mismatch',
    },
    {
      name: 'a bit flipped deep in the event JSON',
      tamper: sql(
        `UPDATE audit.events SET event = jsonb_set(event::jsonb, '{decision,nested,flag}', 'false')::json ${row}15`,
      ),
      seq: 15,
      reason: 'hash_mismatch',
    },
    {
      name: 'a deny turned into an allow',
      tamper: sql(`UPDATE audit.events SET decision = 'allow' ${row}3`),
      seq: 3,
      reason: 'hash_mismatch',
    },
    {
      name: 'the occurrence moved by one microsecond',
      tamper: sql(
        `UPDATE audit.events SET occurred_at = occurred_at + interval '1 microsecond' ${row}22`,
      ),
      seq: 22,
      reason: 'hash_mismatch',
    },
    {
      name: 'the recording time of an unsigned row backdated',
      tamper: sql(`UPDATE audit.events SET recorded_at = recorded_at - interval '1 day' ${row}31`),
      seq: 31,
      reason: 'hash_mismatch',
    },
    {
      name: 'the latency of the last row changed',
      tamper: sql(`UPDATE audit.events SET latency_us = latency_us + 1 ${row}34`),
      seq: 34,
      reason: 'hash_mismatch',
    },
    {
      name: 'the actor replaced',
      tamper: sql(`UPDATE audit.events SET actor = '{"subjectId":"someone_else"}' ${row}1`),
      seq: 1,
      reason: 'hash_mismatch',
    },
    {
      name: 'the reasons emptied',
      tamper: sql(`UPDATE audit.events SET reasons = '[]' ${row}18`),
      seq: 18,
      reason: 'hash_mismatch',
    },
    {
      name: 'the encoding version flipped',
      tamper: sql(`UPDATE audit.events SET chain_v = 0 ${row}9`),
      seq: 9,
      reason: 'hash_mismatch',
    },
    {
      name: 'an edit with every later hash and the head recomputed',
      tamper: async (org) => {
        await sql(`UPDATE audit.events SET decision = 'allow' ${row}6`)(org);
        await rechain(org, 6);
      },
      seq: 1,
      reason: 'checkpoint_mismatch',
    },
    {
      name: 'an edit after the first checkpoint, rechained',
      tamper: async (org) => {
        await sql(`UPDATE audit.events SET resource = 'model:x' ${row}14`)(org);
        await rechain(org, 14);
      },
      seq: 11,
      reason: 'checkpoint_mismatch',
    },
    {
      name: 'an edit rechained, and the checkpoint rows deleted (the object store still has them)',
      tamper: async (org) => {
        await sql(
          `UPDATE audit.events SET resource = 'model:x' ${row}14`,
          'DELETE FROM audit.checkpoints WHERE org_id = $1',
        )(org);
        await rechain(org, 14);
      },
      seq: 11,
      reason: 'checkpoint_mismatch',
    },
    {
      name: "an edit rechained, and the checkpoint rows re-signed with a forger's key",
      tamper: async (org) => {
        await sql(
          `UPDATE audit.events SET resource = 'model:x' ${row}24`,
          'DELETE FROM audit.checkpoints WHERE org_id = $1',
        )(org);
        await rechain(org, 24);
        const forger = {
          keyId: fx.key.keyId,
          privateKey: generateKeyPairSync('ed25519').privateKey,
        };
        const cp = signCheckpoint(
          forger,
          'periodic',
          org,
          { seq: 30n, hash: await storedHash(org, 30n) },
          new Date(),
        );
        await superuser([
          [
            'INSERT INTO audit.checkpoints (org_id, kind, seq, head_hash, signed_at, key_id, statement, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
            [org, cp.kind, '30', cp.headHash, cp.signedAt, cp.keyId, cp.statement, cp.signature],
          ],
        ]);
      },
      seq: 21,
      reason: 'checkpoint_mismatch',
    },
    // deletions
    {
      name: 'one row deleted',
      tamper: sql(`DELETE FROM audit.events ${row}8`),
      seq: 8,
      reason: 'sequence_gap',
    },
    {
      name: 'three rows deleted',
      tamper: sql('DELETE FROM audit.events WHERE org_id = $1 AND org_seq BETWEEN 14 AND 16'),
      seq: 14,
      reason: 'sequence_gap',
    },
    {
      name: 'the first row deleted',
      tamper: sql(`DELETE FROM audit.events ${row}1`),
      seq: 1,
      reason: 'rows_missing',
    },
    {
      name: 'the last (unsigned) row deleted',
      tamper: sql(`DELETE FROM audit.events ${row}34`),
      seq: 34,
      reason: 'rows_missing',
    },
    {
      name: 'the last ten rows deleted, the head rewound and the checkpoint row deleted',
      tamper: sql(
        'DELETE FROM audit.events WHERE org_id = $1 AND org_seq > 24',
        'UPDATE audit.chain_heads SET seq = 24, hash = (SELECT hash FROM audit.events WHERE org_id = $1 AND org_seq = 24) WHERE org_id = $1',
        'DELETE FROM audit.checkpoints WHERE org_id = $1 AND seq > 24',
      ),
      seq: 25,
      reason: 'rows_missing',
    },
    {
      name: 'a prefix deleted as if by retention, with a forged retention checkpoint',
      tamper: async (org) => {
        const forger = { keyId: 'forged', privateKey: generateKeyPairSync('ed25519').privateKey };
        const cp = signCheckpoint(
          forger,
          'retention',
          org,
          { seq: 10n, hash: await storedHash(org, 10n) },
          new Date(),
        );
        await superuser([
          ['DELETE FROM audit.events WHERE org_id = $1 AND org_seq <= 10', [org]],
          [
            'INSERT INTO audit.checkpoints (org_id, kind, seq, head_hash, signed_at, key_id, statement, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
            [org, cp.kind, '10', cp.headHash, cp.signedAt, cp.keyId, cp.statement, cp.signature],
          ],
        ]);
      },
      seq: 1,
      reason: 'rows_missing',
    },
    {
      name: 'every row of the org deleted',
      tamper: sql('DELETE FROM audit.events WHERE org_id = $1'),
      seq: 1,
      reason: 'rows_missing',
    },
    {
      name: 'every row, the head and the checkpoint rows deleted',
      tamper: sql(
        'DELETE FROM audit.events WHERE org_id = $1',
        'DELETE FROM audit.chain_heads WHERE org_id = $1',
        'DELETE FROM audit.checkpoints WHERE org_id = $1',
      ),
      seq: 1,
      reason: 'rows_missing',
    },
    {
      name: 'a row moved to another org',
      tamper: sql(`UPDATE audit.events SET org_id = 'org_elsewhere' ${row}17`),
      seq: 17,
      reason: 'sequence_gap',
    },
    // insertions
    {
      name: 'a row inserted in the middle',
      tamper: sql(...shiftUp(15), insertCopyOf(14, 15)),
      seq: 15,
      reason: 'hash_mismatch',
    },
    {
      name: 'a row inserted in the middle, everything rechained',
      tamper: async (org) => {
        await sql(...shiftUp(15), insertCopyOf(14, 15))(org);
        await rechain(org, 15);
      },
      seq: 11,
      reason: 'checkpoint_mismatch',
    },
    {
      name: 'a row appended past the head, with a correct hash',
      tamper: async (org) => {
        await sql(insertCopyOf(34, 35))(org);
        await superuser([
          [`UPDATE audit.events SET hash = $2 ${row}35`, [org, await nextHash(org, 35n)]],
        ]);
      },
      seq: 35,
      reason: 'rows_beyond_head',
    },
    {
      name: 'a row appended past the head with a made-up hash',
      tamper: sql(insertCopyOf(34, 35)),
      seq: 35,
      reason: 'hash_mismatch',
    },
    // reorders
    {
      name: 'two adjacent rows swapped',
      tamper: sql(...swapSeqs(4, 5)),
      seq: 4,
      reason: 'hash_mismatch',
    },
    {
      name: 'two unsigned rows swapped',
      tamper: sql(...swapSeqs(32, 33)),
      seq: 32,
      reason: 'hash_mismatch',
    },
    {
      name: 'a run of rows reversed',
      tamper: sql(
        'UPDATE audit.events SET org_seq = -org_seq WHERE org_id = $1 AND org_seq BETWEEN 11 AND 19',
        'UPDATE audit.events SET org_seq = 30 + org_seq WHERE org_id = $1 AND org_seq < 0',
      ),
      seq: 11,
      reason: 'hash_mismatch',
    },
    // the object store copy itself
    {
      name: 'the object store copy of a checkpoint overwritten',
      tamper: async (org) => {
        const s3 = createS3Client({
          endpoint: fx.objectStore.url,
          region: fx.objectStore.region,
          bucket: BUCKET,
          credentials: fx.objectStore.credentials,
        });
        await s3.send(
          new PutObjectCommand({
            Bucket: BUCKET,
            Key: checkpointKey({ orgId: org, kind: 'periodic', seq: 20n }),
            Body: '{"statement":"{}","signature":""}',
          }),
        );
        s3.destroy();
      },
      seq: 20,
      reason: 'checkpoint_signature_invalid',
    },
  ];

  for (const c of corpus)
    it(`finds ${c.name} at ${c.seq} (${c.reason})`, async () => {
      const org = await seededOrg();
      await c.tamper(org);
      const v = await fx.verify(org);
      assert.equal(v.ok, false, 'tampering went unnoticed');
      assert.deepEqual(
        { seq: v.failure?.seq, reason: v.failure?.reason },
        { seq: BigInt(c.seq), reason: c.reason },
        v.failure?.problem,
      );
    });

  describe('with constraints dropped and the table truncated', () => {
    let untouched: string;
    before(async () => {
      untouched = await seededOrg();
    });

    it('finds a forged row with a duplicated sequence (unique constraint dropped) at 12', async () => {
      const org = await seededOrg();
      await superuser([
        ['ALTER TABLE audit.events DROP CONSTRAINT events_org_seq_unique'],
        [insertCopyOf(12, 12), [org]],
      ]);
      const v = await fx.verify(org);
      assert.deepEqual(
        { ok: v.ok, seq: v.failure?.seq, reason: v.failure?.reason },
        { ok: false, seq: 12n, reason: 'sequence_duplicate' },
      );
    });

    it('finds TRUNCATE with the triggers disabled at 1, in every org, and leaves an untouched org verifying until then', async () => {
      assert.equal((await fx.verify(untouched)).ok, true);
      await fx.pg.admin.query('ALTER TABLE audit.events DISABLE TRIGGER USER');
      await fx.pg.admin.query('TRUNCATE audit.events');
      await fx.pg.admin.query('ALTER TABLE audit.events ENABLE TRIGGER USER');
      for (let i = 1; i <= orgs; i++) {
        const v = await fx.verify(`org_t${i}`);
        assert.equal(v.ok, false, `org_t${i}`);
        assert.equal(v.failure?.seq, 1n, `org_t${i}: ${v.failure?.problem}`);
      }
    });

    it('finds TRUNCATE of the log, the heads and the checkpoints together, from the object store', async () => {
      await superuser([['TRUNCATE audit.events, audit.chain_heads, audit.checkpoints']]);
      const v = await fx.verify(untouched);
      assert.deepEqual(
        { ok: v.ok, seq: v.failure?.seq, reason: v.failure?.reason },
        { ok: false, seq: 1n, reason: 'rows_missing' },
      );
    });
  });
});
