import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { KEY_MATERIAL_BYTES } from './ciphertext.js';
import type { PersistedState } from './records.js';

const KEY_STATES = new Set(['Enabled', 'Disabled', 'PendingDeletion']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function check(condition: boolean, path: string, what: string): asserts condition {
  if (!condition) throw new Error(`kms state file "${path}" is invalid: ${what}`);
}

function validate(value: unknown, path: string): PersistedState {
  check(isObject(value) && value['version'] === 1, path, 'expected {"version": 1, ...}');
  const { accountId, keys, aliases, grants } = value;
  check(typeof accountId === 'string' && /^\d{12}$/.test(accountId), path, 'bad accountId');
  check(Array.isArray(keys) && Array.isArray(aliases) && Array.isArray(grants), path, 'lists');
  for (const key of keys as unknown[]) {
    check(isObject(key) && typeof key['keyId'] === 'string', path, 'key without keyId');
    check(KEY_STATES.has(String(key['state'])), path, `key ${key['keyId']} has a bad state`);
    const material = typeof key['material'] === 'string' ? key['material'] : '';
    check(
      Buffer.from(material, 'base64').length === KEY_MATERIAL_BYTES,
      path,
      `key ${key['keyId']} has no ${KEY_MATERIAL_BYTES}-byte material`,
    );
  }
  for (const alias of aliases as unknown[]) {
    check(isObject(alias) && typeof alias['name'] === 'string', path, 'alias without name');
  }
  for (const grant of grants as unknown[]) {
    check(
      isObject(grant) &&
        typeof grant['grantId'] === 'string' &&
        typeof grant['keyId'] === 'string' &&
        typeof grant['granteePrincipal'] === 'string' &&
        Array.isArray(grant['operations']),
      path,
      'grant without grantId, keyId, granteePrincipal or operations',
    );
  }
  return value as unknown as PersistedState;
}

/** Reads and checks a state file; undefined when the file does not exist yet. */
export async function loadState(path: string): Promise<PersistedState | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error: unknown) {
    if (isObject(error) && error['code'] === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`kms state file "${path}" is not valid JSON`);
  }
  return validate(parsed, path);
}

/** Writes state files atomically (temp file, fsync, rename), one write at a time. */
export interface StateWriter {
  /** Persists the state; resolves once it is durable on disk. */
  write(state: PersistedState): Promise<void>;
  /** Resolves when every write started so far has finished (successfully or not). */
  flush(): Promise<void>;
}

/** Creates a writer for the path; files are created with mode 0600 as they hold key material. */
export function createStateWriter(path: string): StateWriter {
  let queue: Promise<void> = Promise.resolve();

  async function writeOnce(state: PersistedState): Promise<void> {
    const temp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(JSON.stringify(state), 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, path);
    } catch (error: unknown) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  return {
    write(state) {
      // Chain writes so an older snapshot never lands after a newer one.
      const next = queue.then(() => writeOnce(state));
      queue = next.catch(() => undefined);
      return next;
    },
    flush() {
      return queue;
    },
  };
}
