import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { withChainSnapshot } from '../../src/adapters/pg/chain-reader.js';
import { chainHash } from '../../src/domain/chain.js';

/** SQL fragments a tampering superuser uses; `$1` is always the org. */
export const TAMPER_SQL = (() => {
  const row = 'WHERE org_id = $1 AND org_seq = ';
  return {
    row,
    /** Flips the lowest bit of the first byte of a text column. */
    flipFirstByte: (col: string) =>
      `UPDATE audit.events SET ${col} = convert_from(set_byte(convert_to(${col}, 'UTF8'), 0, get_byte(convert_to(${col}, 'UTF8'), 0) # 1), 'UTF8') `,
    /** Moves rows >= `from` one position up, leaving a hole at `from` (two steps: unique index). */
    shiftUp: (from: number): Array<[string]> => [
      [`UPDATE audit.events SET org_seq = -org_seq - 1 WHERE org_id = $1 AND org_seq >= ${from}`],
      [`UPDATE audit.events SET org_seq = -org_seq WHERE org_id = $1 AND org_seq < 0`],
    ],
    /** Inserts a forged copy of row `seq` (turned into an allow) at position `at`. */
    insertCopyOf: (seq: number, at: number, hash = `'\\x${'ab'.repeat(32)}'::bytea`) =>
      `INSERT INTO audit.events (event_id, org_id, org_seq, kind, occurred_at, recorded_at, source, product, actor,
         action, resource, decision, reasons, latency_us, status_code, request_id, trace_id, event, hash, chain_v)
       SELECT '${randomUUID()}', org_id, ${at}, kind, occurred_at, recorded_at, source, product, actor, action,
         resource, 'allow', reasons, latency_us, status_code, 'req_forged', trace_id, event, ${hash}, 1
       FROM audit.events ${row}${seq}`,
    /** Swaps the positions of two rows. */
    swapSeqs: (a: number, b: number): Array<[string]> => [
      [`UPDATE audit.events SET org_seq = -1 ${row}${a}`],
      [`UPDATE audit.events SET org_seq = ${a} ${row}${b}`],
      [`UPDATE audit.events SET org_seq = ${b} ${row}-1`],
    ],
  };
})();

/** What a database superuser can do to the audit schema, with the triggers off. */
export function createTamperTools(admin: pg.Pool) {
  /** Runs statements as the superuser with every trigger off (session_replication_role). */
  async function superuser(statements: Array<[string, unknown[]?]>): Promise<void> {
    const client = await admin.connect();
    try {
      await client.query('SET session_replication_role = replica');
      for (const [sql, args] of statements) await client.query(sql, args ?? []);
    } finally {
      await client.query('RESET session_replication_role');
      client.release();
    }
  }

  /** The stored hash of one row. */
  const storedHash = async (org: string, seq: bigint): Promise<Buffer> =>
    (
      await admin.query<{ hash: Buffer }>(
        'SELECT hash FROM audit.events WHERE org_id = $1 AND org_seq = $2',
        [org, seq.toString()],
      )
    ).rows[0]?.hash ?? Buffer.alloc(32);

  /** Canonical bytes of every row of the org, in chain order (as the verifier reads them). */
  async function links(org: string): Promise<Array<{ seq: bigint; canonical: Buffer }>> {
    const out: Array<{ seq: bigint; canonical: Buffer }> = [];
    await withChainSnapshot(admin, org, async (snap) => {
      for await (const page of snap.links()) out.push(...page);
    });
    return out;
  }

  return {
    superuser,
    storedHash,
    /** Statements bound to the org, run as the superuser. */
    sql:
      (...statements: Array<string | [string]>) =>
      (org: string) =>
        superuser(statements.map((s) => [typeof s === 'string' ? s : s[0], [org]])),

    /** What a careful forger does after an edit: recompute every hash from `from` on, and the head. */
    async rechain(org: string, from: number): Promise<void> {
      const all = await links(org);
      let prev: Buffer = Buffer.alloc(32);
      const updates: Array<[string, unknown[]]> = [];
      for (const l of all) {
        prev = l.seq < BigInt(from) ? await storedHash(org, l.seq) : chainHash(prev, l.canonical);
        if (l.seq >= BigInt(from))
          updates.push([
            'UPDATE audit.events SET hash = $3 WHERE org_id = $1 AND org_seq = $2',
            [org, l.seq.toString(), prev],
          ]);
      }
      updates.push([
        'UPDATE audit.chain_heads SET seq = $2, hash = $3 WHERE org_id = $1',
        [org, all.at(-1)?.seq.toString() ?? '0', prev],
      ]);
      await superuser(updates);
    },

    /** The hash row `seq` would need to look genuine after row seq - 1 (a forger who knows the algorithm). */
    async nextHash(org: string, seq: bigint): Promise<Buffer> {
      const target = (await links(org)).find((l) => l.seq === seq);
      if (!target) throw new Error(`no row ${seq}`);
      return chainHash(await storedHash(org, seq - 1n), target.canonical);
    },
  };
}

/** The tamper tools. */
export type TamperTools = ReturnType<typeof createTamperTools>;
