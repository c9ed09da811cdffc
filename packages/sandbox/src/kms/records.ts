import type { EncryptionContext } from './input.js';

/** Lifecycle state of a KMS key, spelled as in `KeyMetadata.KeyState`. */
export type KeyState = 'Enabled' | 'Disabled' | 'PendingDeletion';

/** A symmetric KMS key and its secret material. */
export interface KeyRecord {
  readonly keyId: string;
  readonly description: string;
  /** Creation time, epoch milliseconds. */
  readonly creationDate: number;
  state: KeyState;
  /** When a key pending deletion would be deleted, epoch milliseconds (never acted on here). */
  deletionDate: number | undefined;
  readonly material: Buffer;
}

/** Encryption-context constraints of a grant, as in `GrantConstraints`. */
export interface GrantConstraints {
  readonly subset: EncryptionContext | undefined;
  readonly equals: EncryptionContext | undefined;
}

/** A grant letting a principal use a key for some operations. */
export interface GrantRecord {
  readonly grantId: string;
  readonly grantToken: string;
  readonly keyId: string;
  readonly name: string | undefined;
  readonly granteePrincipal: string;
  readonly retiringPrincipal: string | undefined;
  readonly operations: readonly string[];
  readonly constraints: GrantConstraints | undefined;
  /** Creation time, epoch milliseconds. */
  readonly creationDate: number;
}

/** A key as stored in the state file (material base64, dates epoch milliseconds). */
export interface PersistedKey {
  readonly keyId: string;
  readonly description: string;
  readonly creationDate: number;
  readonly state: KeyState;
  readonly deletionDate: number | null;
  readonly material: string;
}

/** The state file's content: everything needed to restart and still decrypt. */
export interface PersistedState {
  readonly version: 1;
  readonly accountId: string;
  readonly keys: readonly PersistedKey[];
  readonly aliases: readonly { readonly name: string; readonly keyId: string }[];
  readonly grants: readonly GrantRecord[];
}
