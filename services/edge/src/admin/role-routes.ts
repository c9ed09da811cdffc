import { create, toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import { ListRolesResponseSchema } from '@fortress/proto/admin/v1/admin_pb';
import {
  RoleSchema,
  type PolicyAdminService,
  type Role,
} from '@fortress/proto/policy/v1/policy_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody } from './parse-body.js';
import { problems, ProblemError } from './problem.js';

/** What the role routes need. */
export interface RoleRoutesDeps {
  policyAdmin: Client<typeof PolicyAdminService>;
  hopTimeoutMs: number;
}

const JSON_OUT = { useProtoFieldName: true } as const;

/**
 * The roles of the admin API (`/api/v1/roles`, the seeds' routes): a role is a name and its
 * grants (allow or deny per model, tool `connector__action`, `connector__*`, or admin action).
 * The policy validates and compiles every change; a role that does not compile is refused with
 * the reason and changes nothing.
 */
export function createRoleRoutes(deps: RoleRoutesDeps): AdminRoute[] {
  const { policyAdmin } = deps;
  const opts = { timeoutMs: deps.hopTimeoutMs };
  const policyOf = (orgId: string) => policyAdmin.getPolicy({ orgId }, opts);
  const roleBody = (role: Role, version: string) => ({
    role: toJson(RoleSchema, role, JSON_OUT),
    policy_version: version,
  });

  const put = async (orgId: string, actorId: string, role: Role) =>
    (await policyAdmin.putRole({ orgId, role, actorId }, opts)).version;

  return [
    {
      method: 'GET',
      path: '/roles',
      action: 'admin:roles.read',
      async handle({ admin }) {
        const p = await policyOf(admin.orgId);
        return {
          status: 200,
          body: toJson(
            ListRolesResponseSchema,
            create(ListRolesResponseSchema, {
              roles: p.model?.roles ?? [],
              policyVersion: p.version,
            }),
            JSON_OUT,
          ),
        };
      },
    },
    {
      method: 'POST',
      path: '/roles',
      action: 'admin:roles.write',
      check({ body }) {
        parseBody(RoleSchema, body);
      },
      async handle({ admin, body }) {
        const role = parseBody(RoleSchema, body);
        const p = await policyOf(admin.orgId);
        if ((p.model?.roles ?? []).some((r) => r.name === role.name))
          throw new ProblemError(
            problems.conflict(`role "${role.name}" already exists`, 'already_exists'),
          );
        return { status: 201, body: roleBody(role, await put(admin.orgId, admin.subjectId, role)) };
      },
    },
    {
      method: 'PUT',
      path: '/roles/{id}',
      action: 'admin:roles.write',
      check({ body }) {
        parseBody(RoleSchema, body);
      },
      async handle({ admin, params, body }) {
        const name = params[0] as string;
        const role = parseBody(RoleSchema, body);
        if (role.name && role.name !== name)
          throw new ProblemError(
            problems.badRequest('name in the body does not match the path', 'name'),
          );
        const p = await policyOf(admin.orgId);
        if (!(p.model?.roles ?? []).some((r) => r.name === name))
          throw new ProblemError(
            problems.notFound(`role "${name}" does not exist`, 'role_not_found'),
          );
        const next = create(RoleSchema, { ...role, name });
        return { status: 200, body: roleBody(next, await put(admin.orgId, admin.subjectId, next)) };
      },
    },
    {
      method: 'DELETE',
      path: '/roles/{id}',
      action: 'admin:roles.write',
      async handle({ admin, params }) {
        const name = params[0] as string;
        await policyAdmin.deleteRole({ orgId: admin.orgId, name, actorId: admin.subjectId }, opts);
        return { status: 204 };
      },
    },
  ];
}
