import { accessSync, constants, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Thrown when a server binary is missing; the message names the Debian package to install. */
export class MissingBinaryError extends Error {
  override readonly name = 'MissingBinaryError';
  constructor(binary: string, debianPackage: string, looked: readonly string[]) {
    super(
      `"${binary}" not found (looked in ${looked.join(', ')}); ` +
        `install the Debian package: apt-get install -y ${debianPackage}`,
    );
  }
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `name` in the given well-known directories, then on PATH; throws {@link MissingBinaryError} naming the package. */
export function findBinary(
  name: string,
  debianPackage: string,
  dirs: readonly string[] = [],
): string {
  const pathDirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  const looked = [...dirs, ...pathDirs];
  for (const dir of looked) {
    const file = join(dir, name);
    if (isExecutable(file)) return file;
  }
  throw new MissingBinaryError(name, debianPackage, [...dirs, '$PATH']);
}

/** The bin dir of PostgreSQL `version` under /usr/lib/postgresql (Debian keeps it off PATH), else of the newest installed. */
export function postgresBinDir(version?: string, root = '/usr/lib/postgresql'): string {
  let versions: string[] = [];
  try {
    versions = readdirSync(root).filter((entry) => /^\d+(\.\d+)?$/.test(entry));
  } catch {
    // no PostgreSQL installed at all: reported below with the package name
  }
  versions = versions.filter((entry) => version === undefined || entry === version);
  versions.sort((a, b) => Number(b) - Number(a));
  for (const candidate of versions) {
    const dir = join(root, candidate, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((tool) => isExecutable(join(dir, tool)))) return dir;
  }
  const pkg = version === undefined ? 'postgresql' : `postgresql-${version}`;
  throw new MissingBinaryError('initdb/pg_ctl', pkg, [`${root}/${version ?? '*'}/bin`]);
}
