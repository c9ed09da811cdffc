import { create, toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CredentialKind,
  DeleteCredentialResponseSchema,
  GetCredentialResponseSchema,
  ListCredentialsResponseSchema,
  PutCredentialResponseSchema,
  RotateCredentialResponseSchema,
  SecretFieldsSchema,
  type SecretFields,
  type VaultAdminService,
} from '@fortress/proto/vault/v1/vault_pb';
import {
  AlreadyExistsError,
  FailedPreconditionError,
  InvalidArgumentError,
  NotFoundError,
} from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import {
  clip,
  decodePageToken,
  encodePageToken,
  pageSize,
  requireId,
  requireText,
} from '@fortress/kit/validate';
import type { CredentialVault } from '../domain/credential-vault.js';
import type { CredentialStore } from '../domain/ports.js';
import { ARCHIVE_KEY_PREFIX } from '../domain/archive-keys.js';
import { lastFour, toMetadata } from './metadata.js';

/** What the credential admin handlers need. */
export interface CredentialAdminDeps {
  vault: CredentialVault;
  creds: CredentialStore;
  /** Background work for an org changed (events to relay, expiries to watch). */
  onChange: (orgId: string) => void;
}

const notFound = (id: string) =>
  new NotFoundError('credential_not_found', `credential "${clip(id)}" does not exist`);

/** The secret fields of a request as one Buffer (zeroed by the vault), zeroing the request's. */
function takeMaterial(material: SecretFields | undefined): Buffer {
  if (!material?.secret.length)
    throw new InvalidArgumentError('material.secret', 'material.secret is required');
  const bytes = Buffer.from(toBinary(SecretFieldsSchema, material));
  material.secret.fill(0);
  for (const v of Object.values(material.fields)) v.fill(0);
  return bytes;
}

const actorOf = (actorId: string) => actorId || 'unknown';

/** The credential handlers of VaultAdminService: secrets go in, metadata comes out. */
export function createCredentialAdminRpc(
  deps: CredentialAdminDeps,
): Partial<ServiceImpl<typeof VaultAdminService>> {
  return {
    async putCredential(req, ctx) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = req.id ? requireId('id', req.id) : newId('cred');
      const label = requireText('label', req.label);
      if (req.kind === CredentialKind.UNSPECIFIED || !CredentialKind[req.kind])
        throw new InvalidArgumentError('kind', 'kind is required');
      // Archive keys are the vault's own: a key an admin chose could read the archive.
      if (req.kind === CredentialKind.ARCHIVE_KEY || id.startsWith(ARCHIVE_KEY_PREFIX))
        throw new InvalidArgumentError('kind', 'archive keys are made by the vault, not put');
      const four = lastFour(req.material?.secret ?? new Uint8Array());
      const material = takeMaterial(req.material);
      const row = await deps.vault.put(
        {
          orgId,
          id,
          label,
          kind: CredentialKind[req.kind],
          material,
          lastFour: four,
          expiresAt: req.expiresAt ? timestampDate(req.expiresAt) : null,
          actorId: actorOf(req.actorId),
        },
        ctx.signal,
      );
      if (!row)
        throw new AlreadyExistsError('credential_exists', `credential "${id}" already exists`);
      deps.onChange(orgId);
      return create(PutCredentialResponseSchema, { credential: toMetadata(row) });
    },

    async rotateCredential(req, ctx) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = requireId('id', req.id);
      if (id.startsWith(ARCHIVE_KEY_PREFIX))
        throw new InvalidArgumentError('id', 'archive keys are made by the vault, not rotated');
      const four = lastFour(req.material?.secret ?? new Uint8Array());
      const material = takeMaterial(req.material);
      const outcome = await deps.vault.rotate(
        {
          orgId,
          id,
          material,
          lastFour: four,
          overlapSeconds: req.overlapSeconds,
          expiresAt: req.expiresAt ? timestampDate(req.expiresAt) : null,
          actorId: actorOf(req.actorId),
        },
        ctx.signal,
      );
      if (!outcome.ok) {
        if (outcome.why === 'not_found') throw notFound(id);
        throw new FailedPreconditionError(
          'credential_rotation_conflict',
          `credential "${id}" was rotated concurrently; try again`,
        );
      }
      deps.onChange(orgId);
      return create(RotateCredentialResponseSchema, { credential: toMetadata(outcome.meta) });
    },

    async getCredential(req) {
      const row = await deps.creds.metadata(
        requireId('org_id', req.orgId, 'org'),
        requireId('id', req.id),
      );
      if (!row) throw notFound(req.id);
      return create(GetCredentialResponseSchema, { credential: toMetadata(row) });
    },

    async listCredentials(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const limit = pageSize(req.page?.pageSize ?? 0);
      const rows = await deps.creds.list(
        orgId,
        decodePageToken('page.page_token', req.page?.pageToken ?? ''),
        limit + 1,
      );
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return create(ListCredentialsResponseSchema, {
        credentials: page.map((r) => toMetadata(r)),
        page: { nextPageToken: rows.length > limit && last ? encodePageToken(last.id) : '' },
      });
    },

    async deleteCredential(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const id = requireId('id', req.id);
      if (!(await deps.vault.delete(orgId, id, actorOf(req.actorId)))) throw notFound(id);
      deps.onChange(orgId);
      return create(DeleteCredentialResponseSchema, {});
    },
  };
}
