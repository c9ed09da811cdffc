/**
 * `npm run bench`: runs each benchmark in its own process, one after another (they must not
 * compete for the machine's two cores): the PAT path, the policy decision point, the vault,
 * the audit log. Each prints its table and writes JSON under bench/results/. `npm run bench --
 * policy` runs just the named ones.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ALL = ['pat', 'mcp', 'policy', 'vault', 'audit'];
const wanted = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
let failed = 0;
for (const name of wanted) {
  const file = join(HERE, `${name}.ts`);
  if (!existsSync(file)) {
    console.log(`(no ${name} benchmark yet)`);
    continue;
  }
  console.log(`\n==> bench ${name}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
