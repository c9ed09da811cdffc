import { create, toJson, type JsonObject } from '@bufbuild/protobuf';
import { Code, ConnectError, type Client } from '@connectrpc/connect';
import type { Principal } from '@fortress/proto/common/v1/common_pb';
import type { EventEnvelope } from '@fortress/proto/events/v1/events_pb';
import {
  GetIdpConfigResponseSchema,
  IdpConfigSchema,
  SetIdpConfigResponseSchema,
  type IdentityAdminService,
  type IdpConfig,
} from '@fortress/proto/identity/v1/identity_pb';
import type { Logger } from '@fortress/kit/log';
import type { AdminRoute } from './admin-api.js';
import { adminChangeEvent } from './change-event.js';
import { parseBody } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

const JSON_OUT = { useProtoFieldName: true } as const;

/** The config as the change log shows it (it holds no secret: issuer, keys' URL, claims). */
const facts = (c: IdpConfig | undefined) =>
  c ? (toJson(IdpConfigSchema, { ...c, updatedAt: undefined }, JSON_OUT) as JsonObject) : undefined;

/**
 * The org's identity provider (`GET/PUT /api/v1/idp`): the issuer, audiences, JWKS and claim
 * mapping that Bank and Zero Trust requests' IdP tokens are checked against. Reading is for
 * every admin role; changing it is `admin:settings.write` (owner, admin), recorded in the change
 * log with before and after.
 */
export function createIdpRoutes(deps: {
  identityAdmin: Client<typeof IdentityAdminService>;
  publish: (env: EventEnvelope) => Promise<void>;
  logger: Logger;
  hopTimeoutMs: number;
}): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  const current = async (orgId: string) => {
    try {
      return (await deps.identityAdmin.getIdpConfig({ orgId }, opts)).config;
    } catch (err) {
      if (ConnectError.from(err).code === Code.NotFound) return undefined;
      throw err;
    }
  };
  const change = (
    admin: Principal,
    before: IdpConfig | undefined,
    after: IdpConfig | undefined,
    approvedBy: Principal | undefined,
  ) =>
    adminChangeEvent(admin.orgId, admin, {
      entityType: 'idp',
      entityId: admin.orgId,
      operation: before ? 'update' : 'create',
      before: facts(before),
      after: facts(after),
      approvedBy,
    });
  return [
    {
      method: 'GET',
      path: '/idp',
      action: 'admin:settings.read',
      async handle({ admin }) {
        const config = await current(admin.orgId);
        if (!config)
          throw new ProblemError(
            problems.notFound('no identity provider is configured', 'idp_not_configured'),
          );
        const res = create(GetIdpConfigResponseSchema, { config });
        return { status: 200, body: toJson(GetIdpConfigResponseSchema, res, JSON_OUT) };
      },
    },
    {
      method: 'PUT',
      path: '/idp',
      action: 'admin:settings.write',
      check({ body }) {
        parseBody(IdpConfigSchema, body);
      },
      async handle({ admin, body, approvedBy }) {
        const config = parseBody(IdpConfigSchema, body);
        const before = await current(admin.orgId);
        const stored = (await deps.identityAdmin.setIdpConfig({ orgId: admin.orgId, config }, opts))
          .config;
        // The decision to change it is already audited; the change row adds before and after.
        await deps.publish(change(admin, before, stored, approvedBy)).catch((err: unknown) => {
          deps.logger.error({ err, orgId: admin.orgId }, 'idp change event not acknowledged');
        });
        const res = create(SetIdpConfigResponseSchema, stored ? { config: stored } : {});
        return { status: 200, body: toJson(SetIdpConfigResponseSchema, res, JSON_OUT) };
      },
    },
  ];
}
