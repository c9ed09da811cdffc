/**
 * The Verify command: recomputes an org's audit chain from PostgreSQL and checks it against
 * the signed checkpoints, in the database and in the object store.
 *
 *   node --import tsx services/audit/src/verify-cli.ts \
 *     --database-url postgres://auditor@host/fortress --org org_123 [--org org_456] \
 *     --s3-bucket fortress-audit [--s3-endpoint http://127.0.0.1:4569] [--s3-region us-east-1] \
 *     --public-key audit-verify.jwk [--public-key older.jwk] [--json]
 *
 * Object store credentials come from the usual AWS environment variables. Any role that can
 * read the audit schema will do (a superuser, or a read-only auditor role with app.org_id).
 * Exit status: 0 every org verifies, 1 tampering found, 2 bad usage or verification failed to run.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadVerifyKeys } from './adapters/keys/signing-key.js';
import { createCheckpointStore } from './adapters/s3/checkpoint-store.js';
import type { ChainVerdict } from './domain/verify-chain.js';
import { verifyOrg } from './verify/verify-org.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

/** One verdict as a line of text. */
export function describeVerdict(orgId: string, v: ChainVerdict): string {
  if (v.ok)
    return `${orgId}: ok — ${v.recordsChecked} records from sequence ${v.firstSequence}, ${v.checkpointsChecked} signed checkpoints matched`;
  const f = v.failure;
  return `${orgId}: TAMPERED — first bad sequence ${f?.seq} (${f?.reason}): ${f?.problem}`;
}

/** Parses arguments, verifies each org, prints, and returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        'database-url': { type: 'string' },
        org: { type: 'string', multiple: true },
        'public-key': { type: 'string', multiple: true },
        's3-endpoint': { type: 'string' },
        's3-region': { type: 'string', default: 'us-east-1' },
        's3-bucket': { type: 'string' },
        json: { type: 'boolean', default: false },
      },
    }).values;
  } catch (err) {
    out(`usage error: ${(err as Error).message}`);
    return 2;
  }
  const url = args['database-url'];
  const bucket = args['s3-bucket'];
  const orgs = args.org ?? [];
  const keyFiles = args['public-key'] ?? [];
  if (!url || !bucket || orgs.length === 0 || keyFiles.length === 0) {
    out(
      'usage: verify-cli --database-url URL --org ORG… --s3-bucket B --public-key JWK… [--s3-endpoint URL] [--s3-region R] [--json]',
    );
    return 2;
  }
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  const copies = createCheckpointStore({
    ...(args['s3-endpoint'] ? { endpoint: args['s3-endpoint'] } : {}),
    region: args['s3-region'] ?? 'us-east-1',
    bucket,
  });
  try {
    const keys = await loadVerifyKeys(keyFiles);
    let tampered = false;
    for (const orgId of orgs) {
      const v = await verifyOrg({ pool, objectStore: copies, keys }, orgId);
      tampered ||= !v.ok;
      out(
        args.json
          ? JSON.stringify({
              org_id: orgId,
              ok: v.ok,
              records_checked: v.recordsChecked,
              first_sequence: v.firstSequence.toString(),
              checkpoints_checked: v.checkpointsChecked,
              ...(v.failure
                ? {
                    first_bad_sequence: v.failure.seq.toString(),
                    reason: v.failure.reason,
                    problem: v.failure.problem,
                  }
                : {}),
            })
          : describeVerdict(orgId, v),
      );
    }
    return tampered ? 1 : 0;
  } catch (err) {
    out(`verification could not run: ${(err as Error).message}`);
    return 2;
  } finally {
    copies.close();
    await pool.end();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main(process.argv.slice(2));
