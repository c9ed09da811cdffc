import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  CredentialKind,
  CredentialMetadataSchema,
  CredentialStatus,
  KeyConfigSchema,
  RewrapJobSchema,
  RewrapJobState,
  type CredentialMetadata,
  type KeyConfig,
  type RewrapJob,
} from '@fortress/proto/vault/v1/vault_pb';
import { tierFromName } from '@fortress/kit/enum-names';
import { shownStatus } from '../domain/credential-versions.js';
import type { CredentialMeta, EpochRow, KeyConfigRow, RewrapJobRow } from '../domain/records.js';

const STATUS: Record<string, CredentialStatus> = {
  active: CredentialStatus.ACTIVE,
  rotated: CredentialStatus.ROTATED,
  revoked: CredentialStatus.REVOKED,
  expired: CredentialStatus.EXPIRED,
};

const JOB_STATE: Record<string, RewrapJobState> = {
  running: RewrapJobState.RUNNING,
  awaiting_session: RewrapJobState.AWAITING_SESSION,
  done: RewrapJobState.DONE,
  superseded: RewrapJobState.SUPERSEDED,
};

/** The metadata of a credential version: what an admin may see, never the secret. */
export function toMetadata(r: CredentialMeta, now = new Date()): CredentialMetadata {
  return create(CredentialMetadataSchema, {
    id: r.id,
    orgId: r.org_id,
    label: r.label,
    kind: CredentialKind[r.kind as keyof typeof CredentialKind] ?? CredentialKind.UNSPECIFIED,
    lastFour: r.last_four,
    version: r.version,
    status: STATUS[shownStatus(r, now)] ?? CredentialStatus.UNSPECIFIED,
    createdAt: timestampFromDate(r.created_at),
    ...(r.rotated_at ? { rotatedAt: timestampFromDate(r.rotated_at) } : {}),
    ...(r.expires_at ? { expiresAt: timestampFromDate(r.expires_at) } : {}),
    ...(r.previous_serves_until
      ? { previousServesUntil: timestampFromDate(r.previous_serves_until) }
      : {}),
  });
}

/** Last four characters of a secret, shown only for secrets long enough that four say little. */
export function lastFour(secret: Uint8Array): string {
  if (secret.length < 16) return '';
  const tail = secret.subarray(secret.length - 4);
  // Only printable ASCII: a binary key's bytes are not "characters" worth showing.
  return tail.every((b) => b >= 0x21 && b <= 0x7e) ? Buffer.from(tail).toString('latin1') : '';
}

/** An org's key configuration as the admin API shows it. */
export function toKeyConfig(
  c: KeyConfigRow,
  current: EpochRow | undefined,
  granteePrincipal: string,
): KeyConfig {
  return create(KeyConfigSchema, {
    orgId: c.org_id,
    tier: tierFromName(c.tier),
    kmsKeyId: c.kms_key_id,
    grantId: c.grant_id,
    kmsEndpoint: c.kms_endpoint,
    rotationDays: c.rotation_days,
    ...(current ? { dataKeyCreatedAt: timestampFromDate(current.created_at) } : {}),
    granteePrincipal: c.tier === 'soho' ? '' : granteePrincipal,
    dataKeyEpoch: current?.epoch ?? 0,
  });
}

/** A re-wrap job as the admin API shows it. */
export function toRewrapJob(j: RewrapJobRow, remaining: number): RewrapJob {
  return create(RewrapJobSchema, {
    id: j.id,
    orgId: j.org_id,
    toEpoch: j.to_epoch,
    state: JOB_STATE[j.state] ?? RewrapJobState.UNSPECIFIED,
    rewrapped: j.rewrapped,
    remaining,
    startedAt: timestampFromDate(j.started_at),
    ...(j.finished_at ? { finishedAt: timestampFromDate(j.finished_at) } : {}),
  });
}
