import { randomBytes, randomUUID } from 'node:crypto';
import { KEY_MATERIAL_BYTES } from './ciphertext.js';
import { KmsError, keyNotFound } from './errors.js';
import type { GrantRecord, KeyRecord, PersistedState } from './records.js';

/** Keys, aliases and grants of one account in one region, in memory. */
export class KeyStore {
  private readonly keys = new Map<string, KeyRecord>();
  private readonly aliases = new Map<string, string>();
  private readonly grants = new Map<string, GrantRecord>();

  /** Creates an empty store for the account and region. */
  constructor(
    readonly accountId: string,
    readonly region: string,
  ) {}

  /** Rebuilds a store from persisted state. */
  static restore(state: PersistedState, region: string): KeyStore {
    const store = new KeyStore(state.accountId, region);
    for (const key of state.keys) {
      store.keys.set(key.keyId, {
        keyId: key.keyId,
        description: key.description,
        creationDate: key.creationDate,
        state: key.state,
        deletionDate: key.deletionDate ?? undefined,
        material: Buffer.from(key.material, 'base64'),
      });
    }
    for (const alias of state.aliases) store.aliases.set(alias.name, alias.keyId);
    for (const grant of state.grants) store.grants.set(grant.grantId, grant);
    return store;
  }

  /** Everything needed to rebuild this store, key material included. */
  snapshot(): PersistedState {
    return {
      version: 1,
      accountId: this.accountId,
      keys: [...this.keys.values()].map((key) => ({
        keyId: key.keyId,
        description: key.description,
        creationDate: key.creationDate,
        state: key.state,
        deletionDate: key.deletionDate ?? null,
        material: key.material.toString('base64'),
      })),
      aliases: [...this.aliases].map(([name, keyId]) => ({ name, keyId })),
      grants: [...this.grants.values()],
    };
  }

  /** The key's ARN. */
  arn(keyId: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:key/${keyId}`;
  }

  /** The alias's ARN. */
  aliasArn(aliasName: string): string {
    return `arn:aws:kms:${this.region}:${this.accountId}:${aliasName}`;
  }

  /** Creates an enabled key with fresh random material. */
  createKey(description: string, now: number): KeyRecord {
    const key: KeyRecord = {
      keyId: randomUUID(),
      description,
      creationDate: now,
      state: 'Enabled',
      deletionDate: undefined,
      material: randomBytes(KEY_MATERIAL_BYTES),
    };
    this.keys.set(key.keyId, key);
    return key;
  }

  /** The key with this exact id, if any. */
  byId(keyId: string): KeyRecord | undefined {
    return this.keys.get(keyId);
  }

  /** Resolves a key id, key ARN, alias name or alias ARN; throws `NotFoundException`. */
  resolve(reference: string): KeyRecord {
    const local = this.localName(reference);
    const keyId = local?.startsWith('alias/') ? this.aliases.get(local) : local;
    const key = keyId === undefined ? undefined : this.keys.get(keyId);
    if (key !== undefined) return key;
    if (local?.startsWith('alias/')) {
      throw new KmsError('NotFoundException', `Alias ${this.aliasArn(local)} is not found.`);
    }
    throw keyNotFound(reference);
  }

  /** `key/<id>` or `alias/<name>` part of an ARN of this account and region, or the input. */
  private localName(reference: string): string | undefined {
    if (!reference.startsWith('arn:')) return reference;
    const prefix = `arn:aws:kms:${this.region}:${this.accountId}:`;
    if (!reference.startsWith(prefix)) return undefined;
    const rest = reference.slice(prefix.length);
    if (rest.startsWith('key/')) return rest.slice('key/'.length);
    return rest.startsWith('alias/') ? rest : undefined;
  }

  /** Whether the alias name is taken. */
  hasAlias(aliasName: string): boolean {
    return this.aliases.has(aliasName);
  }

  /** Points an alias name at a key. */
  setAlias(aliasName: string, keyId: string): void {
    this.aliases.set(aliasName, keyId);
  }

  /** Removes an alias; false when it did not exist. */
  deleteAlias(aliasName: string): boolean {
    return this.aliases.delete(aliasName);
  }

  /** Stores a new grant. */
  addGrant(grant: GrantRecord): void {
    this.grants.set(grant.grantId, grant);
  }

  /** Removes a key's grant; false when the key has no such grant. */
  revokeGrant(keyId: string, grantId: string): boolean {
    if (this.grants.get(grantId)?.keyId !== keyId) return false;
    return this.grants.delete(grantId);
  }

  /** The key's grants, oldest first. */
  grantsFor(keyId: string): GrantRecord[] {
    return [...this.grants.values()].filter((grant) => grant.keyId === keyId);
  }
}
