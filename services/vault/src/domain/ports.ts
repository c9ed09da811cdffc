import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import type {
  CredentialMeta,
  EpochRow,
  KeyConfigRow,
  NewCredentialRow,
  NewEpoch,
  ResolveRow,
  RewrapJobRow,
  RewrapRow,
  RewrapUpdate,
} from './records.js';

/** Why an org's data key is wanted from KMS; it becomes the KMS encryption context's purpose. */
export type KeyPurpose = 'vault-data-key' | 'vault-zt-org-key';

/** Which KMS key, at which endpoint ('' for the service key and the default endpoint). */
export interface KeyTarget {
  keyId: string;
  endpoint: string;
}

/** A data key fresh from KMS: plaintext (the caller zeroes it) and its wrapped form. */
export interface NewDataKey {
  plaintext: Buffer;
  wrapped: Buffer;
  kmsKeyId: string;
}

/** A key pair fresh from KMS: the public key (SPKI DER) and the wrapped private key only. */
export interface NewKeyPair {
  publicKey: Buffer;
  wrapped: Buffer;
  kmsKeyId: string;
}

/** How the vault reaches KMS. Every call has a deadline and fails with a typed error. */
export interface Keyring {
  /** A P-256 key pair whose private key KMS never shows: only a later unwrap releases it. */
  generatePair(
    orgId: string,
    target: KeyTarget,
    purpose: KeyPurpose,
    signal?: AbortSignal,
  ): Promise<NewKeyPair>;
  generate(
    orgId: string,
    target: KeyTarget,
    purpose: KeyPurpose,
    signal?: AbortSignal,
  ): Promise<NewDataKey>;
  unwrap(
    orgId: string,
    target: KeyTarget,
    wrapped: Buffer,
    purpose: KeyPurpose,
    signal?: AbortSignal,
  ): Promise<Buffer>;
}

/** A rotation to record: the new epoch, the job that re-wraps onto it, and its events. */
export interface RotationRecord {
  epoch: NewEpoch;
  /** Saved with the epoch when the rotation comes from a key configuration change. */
  config?: KeyConfigRow | undefined;
  jobId: string;
  actorId: string;
  rotationDays: number;
  events: (epoch: number) => EventEnvelope[];
}

/** Org key configuration and data key epochs. */
export interface KeyStore {
  config(orgId: string): Promise<KeyConfigRow | undefined>;
  currentEpoch(orgId: string): Promise<EpochRow | undefined>;
  epochs(orgId: string): Promise<EpochRow[]>;
  /** Stores epoch 1 unless another replica did first; returns the stored one. */
  insertFirstEpoch(epoch: NewEpoch, rotationDays: number): Promise<EpochRow>;
  /** Stores the next epoch, its job and events at once; the new epoch number. */
  rotate(r: RotationRecord): Promise<number>;
  /** Saves a configuration that needs no new epoch (e.g. a new rotation period). */
  saveConfig(config: KeyConfigRow, events: EventEnvelope[]): Promise<void>;
}

/** Outcome of storing a new version of a credential. */
export type RotateOutcome =
  { ok: true; meta: CredentialMeta } | { ok: false; why: 'not_found' | 'version_moved' };

/** Credential versions. Every change is stored with its events in one transaction. */
export interface CredentialStore {
  /** Inserts version 1; undefined when the id is taken. */
  insertCredential(
    row: NewCredentialRow,
    events: EventEnvelope[],
  ): Promise<CredentialMeta | undefined>;
  /** The version to resolve (the active one for 0) and the newest version number, if any. */
  forResolve(
    orgId: string,
    id: string,
    version: number,
  ): Promise<{ row: ResolveRow | undefined; newestVersion: number | undefined }>;
  metadata(orgId: string, id: string): Promise<CredentialMeta | undefined>;
  list(orgId: string, afterId: string, limit: number): Promise<CredentialMeta[]>;
  /** Inserts `row` as the new active version if `row.version - 1` is still the newest. */
  rotateCredential(
    row: NewCredentialRow,
    overlapUntil: Date,
    events: EventEnvelope[],
  ): Promise<RotateOutcome>;
  /** Deletes every version (ciphertexts and wrapped keys); how many went. */
  deleteCredential(orgId: string, id: string, events: EventEnvelope[]): Promise<number>;
  /** Deletes everything of an org's credentials and keys; how many of each went. */
  shredOrg(
    orgId: string,
    events: EventEnvelope[],
  ): Promise<{ credentials: number; dataKeys: number }>;
}

/** The background re-wrap job's persistence. */
export interface RewrapStore {
  activeJob(orgId: string): Promise<RewrapJobRow | undefined>;
  job(orgId: string, jobId: string): Promise<RewrapJobRow | undefined>;
  /** Credential versions not yet on `toEpoch`. */
  remaining(orgId: string, toEpoch: number): Promise<number>;
  /** Credential versions not yet on `toEpoch`, counted per epoch. */
  byEpoch(orgId: string, toEpoch: number): Promise<Map<number, number>>;
  /**
   * Locks up to `limit` versions on one of `fromEpochs` (skipping rows another worker holds),
   * replaces their wrapped keys with what `rewrap` computes, and counts them on the job — all
   * in one transaction, so a crash loses at most one uncommitted batch.
   */
  rewrapBatch(
    job: RewrapJobRow,
    fromEpochs: number[],
    limit: number,
    rewrap: (rows: RewrapRow[]) => RewrapUpdate[],
  ): Promise<number>;
  setState(job: RewrapJobRow, state: 'running' | 'awaiting_session'): Promise<void>;
  /**
   * Finishes a job whose credentials are all on its epoch: deletes the older epochs' wrapped
   * data keys and records the events. The epochs deleted; undefined when stragglers remain.
   */
  finish(job: RewrapJobRow, events: EventEnvelope[]): Promise<number[] | undefined>;
}

/**
 * Thrown by a store when a write names a data key epoch that a finished re-wrap has just
 * deleted; the caller seals again under the current epoch.
 */
export class StaleEpochError extends Error {
  /** Creates the error. */
  constructor(options?: ErrorOptions) {
    super('the data key epoch was retired meanwhile', options);
    this.name = 'StaleEpochError';
  }
}
