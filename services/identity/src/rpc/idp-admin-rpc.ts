import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  GetIdpConfigResponseSchema,
  IdpConfigSchema,
  SetIdpConfigResponseSchema,
  type IdentityAdminService,
  type IdpConfig as IdpConfigMsg,
} from '@fortress/proto/identity/v1/identity_pb';
import { InvalidArgumentError, NotFoundError } from '@fortress/kit/errors';
import type { Logger } from '@fortress/kit/log';
import { requireId } from '@fortress/kit/validate';
import type { IdentityStore } from '../adapters/pg/identity-store.js';
import type { IdpStore } from '../adapters/pg/idp-store.js';
import { validateIdpConfig, type IdpConfig } from '../domain/idp-config.js';

const toMessage = (c: IdpConfig) =>
  create(IdpConfigSchema, {
    issuer: c.issuer,
    audiences: c.audiences,
    jwksUri: c.jwksUri,
    algorithms: c.algorithms,
    userIdClaim: c.userIdClaim,
    emailClaims: c.emailClaims,
    deviceIdClaim: c.deviceIdClaim,
    attributeClaims: c.attributeClaims,
    groupsClaim: c.groupsClaim,
    groupRoles: Object.entries(c.groupRoles).map(([group, roles]) => ({ group, roles })),
    updatedAt: timestampFromDate(c.updatedAt),
  });

/** The admin's message as the domain's input (validation comes next). */
function fromMessage(m: IdpConfigMsg | undefined) {
  if (!m) throw new InvalidArgumentError('config', 'config is required');
  const groupRoles = Object.create(null) as Record<string, string[]>;
  for (const g of m.groupRoles)
    groupRoles[g.group] = [
      ...(Object.hasOwn(groupRoles, g.group) ? (groupRoles[g.group] ?? []) : []),
      ...g.roles,
    ];
  return {
    issuer: m.issuer,
    audiences: m.audiences,
    jwksUri: m.jwksUri,
    algorithms: m.algorithms,
    userIdClaim: m.userIdClaim,
    emailClaims: m.emailClaims,
    deviceIdClaim: m.deviceIdClaim,
    attributeClaims: m.attributeClaims,
    groupsClaim: m.groupsClaim,
    groupRoles,
  };
}

/**
 * The IdentityAdminService handlers for an org's identity provider. Callers are the operator
 * and the edge (mTLS); the configuration holds no secret, so it goes back whole.
 */
export function createIdpAdminRpc(deps: {
  orgs: Pick<IdentityStore, 'getOrg'>;
  idp: Pick<IdpStore, 'getIdpConfig' | 'setIdpConfig'>;
  logger: Logger;
}): Pick<ServiceImpl<typeof IdentityAdminService>, 'setIdpConfig' | 'getIdpConfig'> {
  const existingOrg = async (orgId: string) => {
    const id = requireId('org_id', orgId, 'org');
    if (!(await deps.orgs.getOrg(id)))
      throw new NotFoundError('org_not_found', `org "${orgId}" does not exist`);
    return id;
  };
  return {
    async setIdpConfig(req) {
      const input = validateIdpConfig(fromMessage(req.config));
      const orgId = await existingOrg(req.orgId);
      const stored = await deps.idp.setIdpConfig(orgId, input);
      deps.logger.info(
        { orgId, issuer: stored.issuer, jwksUri: stored.jwksUri, algorithms: stored.algorithms },
        'identity provider configured',
      );
      return create(SetIdpConfigResponseSchema, { config: toMessage(stored) });
    },

    async getIdpConfig(req) {
      const orgId = await existingOrg(req.orgId);
      const config = await deps.idp.getIdpConfig(orgId);
      if (!config)
        throw new NotFoundError(
          'idp_not_configured',
          `org "${orgId}" has no identity provider configured`,
        );
      return create(GetIdpConfigResponseSchema, { config: toMessage(config) });
    },
  };
}
