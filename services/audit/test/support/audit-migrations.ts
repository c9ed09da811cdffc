import { copyFile, mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { provisionService } from '@fortress/kit/db-provision';
import { migrationsDir, type PgFixture } from '../../../../packages/kit/test/support/pg-fixture.js';

const migrations = async () =>
  (await readdir(migrationsDir('audit'))).filter((f) => f.endsWith('.sql')).sort();

/** A temp dir with the audit migrations up to `last` (e.g. "002"): an older schema to upgrade. */
export async function migrationsUpTo(last: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `fortress-audit-${last}-`));
  for (const f of (await migrations()).filter((m) => m.slice(0, 3) <= last))
    await copyFile(join(migrationsDir('audit'), f), join(dir, f));
  return dir;
}

/** How many audit migrations come after `last`: what upgrading from it applies. */
export async function migrationsAfter(last: string): Promise<number> {
  return (await migrations()).filter((m) => m.slice(0, 3) > last).length;
}

/** Provisions the audit schema from `dir` (all migrations by default); how many were new. */
export function provisionAudit(fx: PgFixture, dir = migrationsDir('audit')): Promise<number> {
  return provisionService({
    adminUrl: fx.adminUrl,
    service: 'audit',
    runtimePassword: fx.runtimePassword,
    migrationsDir: dir,
  });
}
