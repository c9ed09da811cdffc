import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import { Product, Tier } from '@fortress/proto/common/v1/common_pb';
import {
  ApiKeySchema,
  CreateApiKeyResponseSchema,
  CreateOrgResponseSchema,
  GetOrgResponseSchema,
  KeyEnvironment,
  ListApiKeysResponseSchema,
  OrgSchema,
  RevokeApiKeyResponseSchema,
  type IdentityAdminService,
} from '@fortress/proto/identity/v1/identity_pb';
import { AlreadyExistsError, InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import { productFromName, productName, tierFromName, tierName } from '@fortress/kit/enum-names';
import { newId } from '@fortress/kit/ids';
import {
  decodePageToken,
  encodePageToken,
  pageSize,
  requireId,
  requireNames,
  requireText,
} from '@fortress/kit/validate';
import type { ApiKeyRow, IdentityStore, OrgRow } from '../adapters/pg/identity-store.js';
import { generateOrgKey } from '../domain/org-key.js';

const toOrg = (r: OrgRow) =>
  create(OrgSchema, {
    id: r.id,
    name: r.name,
    tier: tierFromName(r.tier),
    disabled: r.disabled,
    createdAt: timestampFromDate(r.created_at),
  });

const toApiKey = (r: ApiKeyRow) =>
  create(ApiKeySchema, {
    id: r.id,
    orgId: r.org_id,
    label: r.label,
    displayPrefix: r.display_prefix,
    environment: r.environment === 'live' ? KeyEnvironment.LIVE : KeyEnvironment.TEST,
    roles: r.roles,
    products: r.products.map(productFromName),
    patKeyId: r.pat_key_id ?? '',
    patKeyVersion: r.pat_key_version,
    createdAt: timestampFromDate(r.created_at),
    ...(r.revoked_at ? { revokedAt: timestampFromDate(r.revoked_at) } : {}),
    ...(r.last_used_at ? { lastUsedAt: timestampFromDate(r.last_used_at) } : {}),
  });

/** The IdentityAdminService handlers: orgs and org API keys. Metadata only ever goes out. */
export function createIdentityAdminRpc(deps: {
  store: IdentityStore;
}): Partial<ServiceImpl<typeof IdentityAdminService>> {
  const { store } = deps;
  const existingOrg = async (orgId: string) => {
    const org = await store.getOrg(requireId('org_id', orgId, 'org'));
    if (!org) throw new NotFoundError('org_not_found', `org "${orgId}" does not exist`);
    return org;
  };
  return {
    async createOrg(req) {
      const name = requireText('name', req.name);
      const tier = tierName(req.tier);
      if (!tier || req.tier === Tier.UNSPECIFIED)
        throw new InvalidArgumentError('tier', 'tier is required');
      const id = req.id ? requireId('id', req.id, 'org') : newId('org');
      const row = await store.createOrg({ id, name, tier });
      if (!row) throw new AlreadyExistsError('org_exists', `org "${id}" already exists`);
      return create(CreateOrgResponseSchema, { org: toOrg(row) });
    },

    async getOrg(req) {
      return create(GetOrgResponseSchema, { org: toOrg(await existingOrg(req.orgId)) });
    },

    async createApiKey(req) {
      const org = await existingOrg(req.orgId);
      const label = requireText('label', req.label);
      const roles = requireNames('roles', req.roles);
      if (req.products.length === 0)
        throw new InvalidArgumentError('products', 'products is required');
      const products = req.products.map((p) => {
        const name = productName(p);
        if (!name || p === Product.UNSPECIFIED)
          throw new InvalidArgumentError('products', `unknown product ${p}`);
        return name;
      });
      const patKeyId = req.patKeyId ? requireId('pat_key_id', req.patKeyId, 'pat') : null;
      if (req.patKeyVersion > 0 && !patKeyId)
        throw new InvalidArgumentError('pat_key_version', 'pat_key_version needs a pat_key_id');
      const environment = req.environment === KeyEnvironment.TEST ? 'test' : 'live';
      const generated = generateOrgKey(environment);
      const row = await store.insertKey({
        id: newId('key'),
        orgId: org.id,
        hash: generated.hash,
        displayPrefix: generated.displayPrefix,
        label,
        environment,
        roles,
        products,
        patKeyId,
        patKeyVersion: req.patKeyVersion,
      });
      return create(CreateApiKeyResponseSchema, { key: toApiKey(row), secret: generated.secret });
    },

    async listApiKeys(req) {
      const org = await existingOrg(req.orgId);
      const limit = pageSize(req.page?.pageSize ?? 0);
      const after = decodePageToken('page.page_token', req.page?.pageToken ?? '');
      const rows = await store.listKeys(org.id, limit + 1, after);
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return create(ListApiKeysResponseSchema, {
        keys: page.map(toApiKey),
        page: { nextPageToken: rows.length > limit && last ? encodePageToken(last.id) : '' },
      });
    },

    async revokeApiKey(req) {
      const org = await existingOrg(req.orgId);
      const row = await store.revokeKey(org.id, requireId('key_id', req.keyId, 'key'));
      if (!row) throw new NotFoundError('key_not_found', `api key "${req.keyId}" does not exist`);
      return create(RevokeApiKeyResponseSchema, { key: toApiKey(row) });
    },
  };
}
