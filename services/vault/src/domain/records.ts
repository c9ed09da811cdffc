/** A trust tier, as stored. */
export type TierName = 'soho' | 'bank' | 'zero_trust';

/** How an epoch's data key protects credential keys (see dek-wrap.ts). */
export type Scheme = 'aes' | 'p256';

/** Which KMS key protects an org's data keys, and how often they rotate. */
export interface KeyConfigRow {
  org_id: string;
  tier: TierName;
  /** '' = the service-managed key. */
  kms_key_id: string;
  /** '' = the default KMS endpoint. */
  kms_endpoint: string;
  grant_id: string;
  rotation_days: number;
  updated_at: Date;
  updated_by: string;
}

/** One epoch of an org's data key: only its KMS-wrapped form (and, for p256, its public key). */
export interface EpochRow {
  org_id: string;
  epoch: number;
  kms_key_id: string;
  wrapped_key: Buffer;
  scheme: Scheme;
  tier: TierName;
  kms_endpoint: string;
  public_key: Buffer | null;
  created_at: Date;
}

/** A data key epoch about to be stored. */
export type NewEpoch = Omit<EpochRow, 'epoch' | 'created_at'>;

/** Everything about a credential version that may be shown (no ciphertext, no wrapped key). */
export interface CredentialMeta {
  org_id: string;
  id: string;
  version: number;
  kind: string;
  label: string;
  last_four: string;
  status: string;
  key_epoch: number;
  created_at: Date;
  rotated_at: Date | null;
  expires_at: Date | null;
  overlap_until: Date | null;
  /** Metadata reads: when the previous version stops serving, while an overlap runs. */
  previous_serves_until?: Date | null;
}

/** A credential version with its sealed secret and wrapped key (never leaves the vault). */
export interface CredentialRow extends CredentialMeta {
  ciphertext: Buffer;
  /** null: a legacy ciphertext sealed directly under the epoch's data key. */
  wrapped_dek: Buffer | null;
}

/** A credential version to insert. */
export type NewCredentialRow = Omit<
  CredentialRow,
  'created_at' | 'rotated_at' | 'status' | 'overlap_until'
>;

/** What resolving one credential version needs, read in one query. */
export interface ResolveRow extends CredentialRow {
  epoch: EpochRow;
  /** The org's configured tier (which decides whether a session is required). */
  org_tier: TierName;
}

/** States of a background re-wrap job. */
export type RewrapState = 'running' | 'awaiting_session' | 'done' | 'superseded';

/** A background re-wrap job. */
export interface RewrapJobRow {
  org_id: string;
  id: string;
  to_epoch: number;
  state: RewrapState;
  rewrapped: number;
  actor_id: string;
  started_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

/** One credential version as the re-wrap job sees it. */
export interface RewrapRow {
  id: string;
  version: number;
  key_epoch: number;
  wrapped_dek: Buffer | null;
  ciphertext: Buffer;
}

/** The new key material of one re-wrapped credential version. */
export interface RewrapUpdate {
  id: string;
  version: number;
  wrapped_dek: Buffer;
  /** Set only when a legacy ciphertext was converted to the current format. */
  ciphertext: Buffer | null;
}
