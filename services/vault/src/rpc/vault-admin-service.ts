import { create, toBinary } from '@bufbuild/protobuf';
import { timestampDate, timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CredentialKind,
  CredentialMetadataSchema,
  CredentialStatus,
  GetCredentialResponseSchema,
  ListCredentialsResponseSchema,
  PutCredentialResponseSchema,
  SecretFieldsSchema,
  type VaultAdminService,
} from '@fortress/proto/vault/v1/vault_pb';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import {
  decodePageToken,
  encodePageToken,
  pageSize,
  requireId,
  requireText,
} from '@fortress/kit/validate';
import type { CredentialRow } from '../adapters/pg/vault-store.js';
import type { VaultStore } from '../adapters/pg/vault-store.js';
import type { CredentialVault } from '../domain/credential-vault.js';

const STATUS: Record<string, CredentialStatus> = {
  active: CredentialStatus.ACTIVE,
  rotated: CredentialStatus.ROTATED,
  revoked: CredentialStatus.REVOKED,
  expired: CredentialStatus.EXPIRED,
};

const toMetadata = (r: Omit<CredentialRow, 'ciphertext'>) =>
  create(CredentialMetadataSchema, {
    id: r.id,
    orgId: r.org_id,
    label: r.label,
    kind: CredentialKind[r.kind as keyof typeof CredentialKind] ?? CredentialKind.UNSPECIFIED,
    lastFour: r.last_four,
    version: r.version,
    status: STATUS[r.status] ?? CredentialStatus.UNSPECIFIED,
    createdAt: timestampFromDate(r.created_at),
    ...(r.rotated_at ? { rotatedAt: timestampFromDate(r.rotated_at) } : {}),
    ...(r.expires_at ? { expiresAt: timestampFromDate(r.expires_at) } : {}),
  });

/** Last four characters of a secret, shown only for secrets long enough that four say little. */
function lastFour(secret: Uint8Array): string {
  return secret.length >= 16
    ? Buffer.from(secret.subarray(secret.length - 4)).toString('utf8')
    : '';
}

/** The VaultAdminService handlers: secrets go in, metadata comes out. */
export function createVaultAdminRpc(deps: {
  vault: CredentialVault;
  store: VaultStore;
}): Partial<ServiceImpl<typeof VaultAdminService>> {
  return {
    async putCredential(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = req.id ? requireId('id', req.id) : newId('cred');
      const label = requireText('label', req.label);
      if (req.kind === CredentialKind.UNSPECIFIED || !CredentialKind[req.kind]) {
        throw new InvalidArgumentError('kind', 'kind is required');
      }
      if (!req.material?.secret.length)
        throw new InvalidArgumentError('material.secret', 'material.secret is required');
      const material = Buffer.from(toBinary(SecretFieldsSchema, req.material));
      const row = await deps.vault.put({
        orgId,
        id,
        label,
        kind: CredentialKind[req.kind],
        material,
        lastFour: lastFour(req.material.secret),
        expiresAt: req.expiresAt ? timestampDate(req.expiresAt) : null,
      });
      req.material.secret.fill(0);
      if (!row)
        throw new AlreadyExistsError('credential_exists', `credential "${id}" already exists`);
      return create(PutCredentialResponseSchema, { credential: toMetadata(row) });
    },

    async getCredential(req) {
      const row = await deps.store.metadata(
        requireId('org_id', req.orgId, 'org'),
        requireId('id', req.id),
      );
      if (!row)
        throw new NotFoundError('credential_not_found', `credential "${req.id}" does not exist`);
      return create(GetCredentialResponseSchema, { credential: toMetadata(row) });
    },

    async listCredentials(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.page?.pageSize ?? 0);
      const rows = await deps.store.list(
        orgId,
        decodePageToken('page.page_token', req.page?.pageToken ?? ''),
        limit + 1,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return create(ListCredentialsResponseSchema, {
        credentials: page.map(toMetadata),
        page: { nextPageToken: rows.length > limit && last ? encodePageToken(last.id) : '' },
      });
    },
  };
}
