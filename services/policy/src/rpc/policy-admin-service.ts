import { create } from '@bufbuild/protobuf';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  Effect,
  GetPolicyResponseSchema,
  PutRoleResponseSchema,
  type Grant as GrantMessage,
  type PolicyAdminService,
} from '@fortress/proto/policy/v1/policy_pb';
import { InvalidArgumentError } from '@fortress/kit/errors';
import { clip, requireId } from '@fortress/kit/validate';
import type { PolicyStore } from '../adapters/pg/policy-store.js';
import { compileRoles } from '../domain/compile.js';
import { NAME_PATTERN, WILDCARD, type Grant, type RoleModel } from '../domain/model.js';
import type { PolicyCache } from '../domain/policy-cache.js';

/** What the admin handlers need. */
export interface PolicyAdminDeps {
  store: PolicyStore;
  cache: PolicyCache;
  /** Schema validation errors of a compiled policy set. */
  validate: (policies: Record<string, string>) => string[];
}

function toGrant(g: GrantMessage, i: number): Grant {
  const field = `role.grants[${i}]`;
  if (g.resourceType !== 'model') {
    throw new InvalidArgumentError(
      `${field}.resource_type`,
      `${field}.resource_type must be "model", got "${clip(g.resourceType)}"`,
    );
  }
  if (g.resourceId !== WILDCARD && !NAME_PATTERN.test(g.resourceId)) {
    throw new InvalidArgumentError(
      `${field}.resource_id`,
      `${field}.resource_id "${clip(g.resourceId)}" is not a valid model id or "*"`,
    );
  }
  if (g.effect !== Effect.ALLOW && g.effect !== Effect.DENY) {
    throw new InvalidArgumentError(`${field}.effect`, `${field}.effect must be ALLOW or DENY`);
  }
  return {
    resourceType: 'model',
    resourceId: g.resourceId,
    effect: g.effect === Effect.ALLOW ? 'allow' : 'deny',
  };
}

/** The PolicyAdminService handlers (roles so far). Every edit is validated before it is saved. */
export function createPolicyAdminRpc(
  deps: PolicyAdminDeps,
): Partial<ServiceImpl<typeof PolicyAdminService>> {
  return {
    async getPolicy(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const model = await deps.store.load(orgId);
      return create(GetPolicyResponseSchema, {
        version: String(model.version),
        model: {
          roles: model.roles.map((r) => ({
            name: r.name,
            description: r.description,
            grants: r.grants.map((g) => ({
              resourceType: g.resourceType,
              resourceId: g.resourceId,
              effect: g.effect === 'allow' ? Effect.ALLOW : Effect.DENY,
            })),
          })),
        },
      });
    },

    async putRole(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      if (!req.role) throw new InvalidArgumentError('role', 'role is required');
      if (!NAME_PATTERN.test(req.role.name)) {
        throw new InvalidArgumentError(
          'role.name',
          `role.name "${clip(req.role.name)}" must be 1–128 letters, digits, "_", ".", ":" or "-"`,
        );
      }
      const role: RoleModel = {
        name: req.role.name,
        description: req.role.description.slice(0, 500),
        grants: req.role.grants.map(toGrant),
      };
      const { version } = await deps.store.putRole(orgId, role, (roles) => {
        const problems = deps.validate(compileRoles(roles));
        if (problems.length)
          throw new InvalidArgumentError(
            'role',
            `the policy does not validate: ${problems.join('; ')}`,
          );
      });
      deps.cache.invalidate(orgId);
      return create(PutRoleResponseSchema, { version: String(version) });
    },
  };
}
