import type { IncomingMessage, ServerResponse } from 'node:http';
import { create, fromJson, toJson, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import {
  Code,
  ConnectError,
  createContextKey,
  createContextValues,
  type HandlerContext,
} from '@connectrpc/connect';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import {
  ConnectorService,
  CreateConnectorRequestSchema,
  CreateConnectorResponseSchema,
  DeleteConnectorResponseSchema,
  DeleteRoleResponseSchema,
  EnableConnectorResponseSchema,
  KillConnectorRequestSchema,
  KillConnectorResponseSchema,
  ListConnectorsResponseSchema,
  ListRolesResponseSchema,
  PutRoleResponseSchema,
  RoleService,
  RotateConnectorCredentialRequestSchema,
  RotateConnectorCredentialResponseSchema,
  TestConnectorResponseSchema,
  UpdateConnectorRequestSchema,
  UpdateConnectorResponseSchema,
  CreateOrgKeyRequestSchema,
  CreateOrgKeyResponseSchema,
  CreatePatKeyRequestSchema,
  CreatePatKeyResponseSchema,
  GetPatKeyUsageResponseSchema,
  ListOrgKeysResponseSchema,
  ListPatKeysResponseSchema,
  LoginRequestSchema,
  LoginResponseSchema,
  LogoutResponseSchema,
  OrgKeyService,
  PatKeyService,
  RefreshRequestSchema,
  RefreshResponseSchema,
  RevokeOrgKeyResponseSchema,
  RevokePatKeyResponseSchema,
  RotatePatKeyRequestSchema,
  RotatePatKeyResponseSchema,
  SessionService,
  UpdatePatKeyRequestSchema,
  UpdatePatKeyResponseSchema,
  WhoAmIResponseSchema,
  CreateUserResponseSchema,
  DeleteUserResponseSchema,
  GetUserResponseSchema,
  ListUsersResponseSchema,
  UpdateUserResponseSchema,
  UserSchema,
  UserService,
  type User,
} from '@fortress/proto/admin/v1/admin_pb';
import { RoleSchema } from '@fortress/proto/policy/v1/policy_pb';
import type { RequestFacts } from '../chain/decision-chain.js';
import type { AdminApi } from './admin-api.js';
import { bearerToken } from './parse-body.js';
import { problemOf } from './problem.js';

const factsKey = createContextKey<RequestFacts | undefined>(undefined, {
  description: 'the edge request facts of an admin RPC',
});

const JSON_IN = { useProtoFieldName: true } as const;

/** The gRPC code of an HTTP problem status. */
function codeOf(status: number, code: string): Code {
  // A change parked for approval: not done, and retrying will not do it.
  if (status === 202) return Code.FailedPrecondition;
  if (status === 400 || status === 413 || status === 415) return Code.InvalidArgument;
  if (status === 401) return Code.Unauthenticated;
  if (status === 403) return Code.PermissionDenied;
  if (status === 404) return Code.NotFound;
  if (status === 409)
    return code === 'already_exists' ? Code.AlreadyExists : Code.FailedPrecondition;
  if (status === 422) return Code.FailedPrecondition;
  if (status === 429) return Code.ResourceExhausted;
  if (status === 503) return Code.Unavailable;
  return Code.Internal;
}

/**
 * The admin services of `proto/fortress/admin/v1` served on the edge's port over Connect and
 * gRPC-Web (HTTP/1.1), each method the twin of a REST route: the same chain (identity,
 * posture, policy with the admin action, audit), the same handler, the same Idempotency-Key
 * (as a request header). Problems become gRPC statuses with the problem's `code` as the
 * `fortress-reason` trailer. A change its org marks critical is parked for approval as on
 * REST, and the RPC fails with FAILED_PRECONDITION, reason `approval_pending` and the
 * approval's id in `fortress-approval-id`; approvals are decided over REST only.
 */
export function createAdminRpc(api: AdminApi) {
  const run = async <O extends DescMessage>(
    out: O,
    ctx: HandlerContext,
    route: string,
    call: { params?: string[]; query?: URLSearchParams; body?: unknown } = {},
  ): Promise<MessageShape<O>> => {
    const facts = ctx.values.get(factsKey);
    if (!facts) throw new ConnectError('no request facts', Code.Internal);
    const token = bearerToken(ctx.requestHeader.get('authorization'));
    try {
      const body = await api.invoke(route, {
        facts,
        token,
        ...call,
        idempotencyKey: ctx.requestHeader.get('idempotency-key') ?? undefined,
      });
      return fromJson(out, (body ?? {}) as never, { ignoreUnknownFields: true });
    } catch (err) {
      const p = problemOf(err);
      const e = new ConnectError(p.detail, codeOf(p.status, p.code));
      e.metadata.set('fortress-reason', p.code);
      if (p.field) e.metadata.set('fortress-field', p.field);
      const approval = p.headers?.['fortress-approval-id'];
      if (approval) e.metadata.set('fortress-approval-id', approval);
      throw e;
    }
  };
  const usageQuery = (since?: { seconds: bigint }, until?: { seconds: bigint }) => {
    const q = new URLSearchParams();
    if (since) q.set('since', timestampDate(since as never).toISOString());
    if (until) q.set('until', timestampDate(until as never).toISOString());
    return q;
  };

  const handler = connectNodeAdapter({
    contextValues: (req) =>
      createContextValues().set(
        factsKey,
        (req as IncomingMessage & { facts?: RequestFacts }).facts,
      ),
    routes: (router) => {
      router.service(SessionService, {
        login: (req, ctx) =>
          run(LoginResponseSchema, ctx, 'POST /auth/login', {
            body: toJson(LoginRequestSchema, req, JSON_IN),
          }),
        refresh: (req, ctx) =>
          run(RefreshResponseSchema, ctx, 'POST /auth/refresh', {
            body: toJson(RefreshRequestSchema, req, JSON_IN),
          }),
        logout: (req, ctx) =>
          run(LogoutResponseSchema, ctx, 'POST /auth/logout', {
            body: { refresh_token: req.refreshToken },
          }),
        whoAmI: (_req, ctx) => run(WhoAmIResponseSchema, ctx, 'GET /auth/whoami'),
      });
      router.service(PatKeyService, {
        listPatKeys: (_req, ctx) => run(ListPatKeysResponseSchema, ctx, 'GET /pat-keys'),
        createPatKey: (req, ctx) =>
          run(CreatePatKeyResponseSchema, ctx, 'POST /pat-keys', {
            body: toJson(CreatePatKeyRequestSchema, req, JSON_IN),
          }),
        updatePatKey: (req, ctx) =>
          run(UpdatePatKeyResponseSchema, ctx, 'PUT /pat-keys/{id}', {
            params: [req.id],
            body: toJson(UpdatePatKeyRequestSchema, req, JSON_IN),
          }),
        rotatePatKey: (req, ctx) =>
          run(RotatePatKeyResponseSchema, ctx, 'POST /pat-keys/{id}/rotate', {
            params: [req.id],
            body: toJson(RotatePatKeyRequestSchema, req, JSON_IN),
          }),
        revokePatKey: (req, ctx) =>
          run(RevokePatKeyResponseSchema, ctx, 'DELETE /pat-keys/{id}', { params: [req.id] }),
        getPatKeyUsage: (req, ctx) =>
          run(GetPatKeyUsageResponseSchema, ctx, 'GET /pat-keys/{id}/usage', {
            params: [req.id],
            query: usageQuery(req.since, req.until),
          }),
      });
      router.service(OrgKeyService, {
        createOrgKey: (req, ctx) =>
          run(CreateOrgKeyResponseSchema, ctx, 'POST /org-keys', {
            body: toJson(CreateOrgKeyRequestSchema, req, JSON_IN),
          }),
        listOrgKeys: (req, ctx) =>
          run(ListOrgKeysResponseSchema, ctx, 'GET /org-keys', {
            query: new URLSearchParams({
              page_size: String(req.page?.pageSize ?? 0),
              page_token: req.page?.pageToken ?? '',
            }),
          }),
        revokeOrgKey: (req, ctx) =>
          run(RevokeOrgKeyResponseSchema, ctx, 'DELETE /org-keys/{id}', { params: [req.keyId] }),
      });
      router.service(ConnectorService, {
        listConnectors: (_req, ctx) => run(ListConnectorsResponseSchema, ctx, 'GET /connectors'),
        createConnector: (req, ctx) =>
          run(CreateConnectorResponseSchema, ctx, 'POST /connectors', {
            body: toJson(CreateConnectorRequestSchema, req, JSON_IN),
          }),
        updateConnector: (req, ctx) =>
          run(UpdateConnectorResponseSchema, ctx, 'PUT /connectors/{id}', {
            params: [req.id],
            body: toJson(UpdateConnectorRequestSchema, req, JSON_IN),
          }),
        deleteConnector: (req, ctx) =>
          run(DeleteConnectorResponseSchema, ctx, 'DELETE /connectors/{id}', { params: [req.id] }),
        testConnector: (req, ctx) =>
          run(TestConnectorResponseSchema, ctx, 'POST /connectors/{id}/test', { params: [req.id] }),
        killConnector: (req, ctx) =>
          run(KillConnectorResponseSchema, ctx, 'POST /connectors/{id}/kill', {
            params: [req.id],
            body: toJson(KillConnectorRequestSchema, req, JSON_IN),
          }),
        enableConnector: (req, ctx) =>
          run(EnableConnectorResponseSchema, ctx, 'POST /connectors/{id}/enable', {
            params: [req.id],
          }),
        rotateConnectorCredential: (req, ctx) =>
          run(RotateConnectorCredentialResponseSchema, ctx, 'POST /connectors/{id}/rotate', {
            params: [req.id],
            body: toJson(RotateConnectorCredentialRequestSchema, req, JSON_IN),
          }),
      });
      router.service(RoleService, {
        listRoles: (_req, ctx) => run(ListRolesResponseSchema, ctx, 'GET /roles'),
        // A put creates the role or replaces its grants (REST has POST and PUT for the two).
        putRole: async (req, ctx) => {
          const role = req.role ? toJson(RoleSchema, req.role, JSON_IN) : {};
          try {
            return await run(PutRoleResponseSchema, ctx, 'PUT /roles/{id}', {
              params: [req.role?.name ?? ''],
              body: role,
            });
          } catch (err) {
            if (ConnectError.from(err).code !== Code.NotFound) throw err;
            return run(PutRoleResponseSchema, ctx, 'POST /roles', { body: role });
          }
        },
        deleteRole: (req, ctx) =>
          run(DeleteRoleResponseSchema, ctx, 'DELETE /roles/{id}', { params: [req.name] }),
      });
      // REST answers a user alone; the RPCs wrap it in their response. A user's body is its
      // editable fields: the id goes in the path, the timestamps are Fortress's.
      const userIn = (u: User | undefined) =>
        u
          ? toJson(
              UserSchema,
              create(UserSchema, { ...u, id: '', createdAt: undefined, updatedAt: undefined }),
              JSON_IN,
            )
          : {};
      router.service(UserService, {
        listUsers: (req, ctx) =>
          run(ListUsersResponseSchema, ctx, 'GET /users', {
            query: new URLSearchParams({
              page_size: String(req.page?.pageSize ?? 0),
              page_token: req.page?.pageToken ?? '',
            }),
          }),
        getUser: async (req, ctx) =>
          create(GetUserResponseSchema, {
            user: await run(UserSchema, ctx, 'GET /users/{id}', { params: [req.id] }),
          }),
        createUser: async (req, ctx) =>
          create(CreateUserResponseSchema, {
            user: await run(UserSchema, ctx, 'POST /users', { body: userIn(req.user) }),
          }),
        updateUser: async (req, ctx) =>
          create(UpdateUserResponseSchema, {
            user: await run(UserSchema, ctx, 'PUT /users/{id}', {
              params: [req.user?.id ?? ''],
              body: userIn(req.user),
            }),
          }),
        deleteUser: (req, ctx) =>
          run(DeleteUserResponseSchema, ctx, 'DELETE /users/{id}', { params: [req.id] }),
      });
    },
  });

  return {
    /** The edge server's handler for `/fortress.admin.v1.*`. */
    handle: (req: IncomingMessage, res: ServerResponse, facts: RequestFacts) =>
      new Promise<void>((resolve) => {
        Object.assign(req, { facts });
        res.on('close', () => resolve());
        handler(req, res);
      }),
  };
}
