import { create, toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  CreateOrgKeyRequestSchema,
  CreateOrgKeyResponseSchema,
  ListOrgKeysResponseSchema,
  OrgKeySchema,
  RevokeOrgKeyResponseSchema,
  type OrgKey,
} from '@fortress/proto/admin/v1/admin_pb';
import { Product } from '@fortress/proto/common/v1/common_pb';
import {
  KeyEnvironment,
  type ApiKey,
  type IdentityAdminService,
} from '@fortress/proto/identity/v1/identity_pb';
import type { PolicyAdminService } from '@fortress/proto/policy/v1/policy_pb';
import type { VaultAdminService } from '@fortress/proto/vault/v1/vault_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody, queryPage } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

const JSON_OUT = { useProtoFieldName: true } as const;

const toOrgKey = (k: ApiKey): OrgKey =>
  create(OrgKeySchema, {
    id: k.id,
    label: k.label,
    displayPrefix: k.displayPrefix,
    roles: k.roles,
    products: k.products,
    patKeyId: k.patKeyId,
    patKeyVersion: k.patKeyVersion,
    ...(k.createdAt ? { createdAt: k.createdAt } : {}),
    ...(k.revokedAt ? { revokedAt: k.revokedAt } : {}),
  });

/**
 * Org API keys of the admin API (`/api/v1/org-keys`): what developers put in their SDK. A key
 * issued for a PAT key is pinned to the version of its Anthropic key current at issue, so a
 * rotation lets it serve through the overlap and then stop — the seeds' ROTATED lifecycle.
 * The secret is in the create response only; Fortress keeps its SHA-256.
 */
export function createOrgKeyRoutes(deps: {
  identityAdmin: Client<typeof IdentityAdminService>;
  policyAdmin: Client<typeof PolicyAdminService>;
  vaultAdmin: Client<typeof VaultAdminService>;
  hopTimeoutMs: number;
}): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'GET',
      path: '/org-keys',
      action: 'admin:org_keys.read',
      async handle({ admin, query }) {
        const r = await deps.identityAdmin.listApiKeys(
          {
            orgId: admin.orgId,
            page: queryPage(query),
          },
          opts,
        );
        const res = create(ListOrgKeysResponseSchema, {
          keys: r.keys.map(toOrgKey),
          page: { nextPageToken: r.page?.nextPageToken ?? '' },
        });
        return { status: 200, body: toJson(ListOrgKeysResponseSchema, res, JSON_OUT) };
      },
    },
    {
      method: 'POST',
      path: '/org-keys',
      action: 'admin:org_keys.write',
      showsSecretOnce: true,
      async handle({ admin, body }) {
        const req = parseBody(CreateOrgKeyRequestSchema, body);
        let patKeyVersion = 0;
        if (req.patKeyId) {
          const limits = (
            await deps.policyAdmin.getPolicy({ orgId: admin.orgId }, opts)
          ).model?.patLimits.find((l) => l.patKeyId === req.patKeyId);
          if (!limits || limits.revokedAt)
            throw new ProblemError(
              problems.badRequest(
                `PAT key "${req.patKeyId}" does not exist or is revoked`,
                'pat_key_id',
                'pat_key_not_usable',
              ),
            );
          const credential = (
            await deps.vaultAdmin.getCredential({ orgId: admin.orgId, id: req.patKeyId }, opts)
          ).credential;
          patKeyVersion = credential?.version ?? 0;
        }
        const products = req.products.length ? req.products : req.patKeyId ? [Product.PAT] : [];
        const r = await deps.identityAdmin.createApiKey(
          {
            orgId: admin.orgId,
            label: req.label,
            roles: req.roles,
            products,
            patKeyId: req.patKeyId,
            patKeyVersion,
            environment: req.testKey ? KeyEnvironment.TEST : KeyEnvironment.LIVE,
          },
          opts,
        );
        const res = create(CreateOrgKeyResponseSchema, {
          ...(r.key ? { key: toOrgKey(r.key) } : {}),
          secret: r.secret,
        });
        return { status: 201, body: toJson(CreateOrgKeyResponseSchema, res, JSON_OUT) };
      },
    },
    {
      method: 'DELETE',
      path: '/org-keys/{id}',
      action: 'admin:org_keys.write',
      async handle({ admin, params }) {
        const r = await deps.identityAdmin.revokeApiKey(
          { orgId: admin.orgId, keyId: params[0] as string },
          opts,
        );
        const res = create(RevokeOrgKeyResponseSchema, r.key ? { key: toOrgKey(r.key) } : {});
        return { status: 200, body: toJson(RevokeOrgKeyResponseSchema, res, JSON_OUT) };
      },
    },
  ];
}
