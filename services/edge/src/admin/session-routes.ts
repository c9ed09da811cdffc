import { create, toJson } from '@bufbuild/protobuf';
import type { Client } from '@connectrpc/connect';
import {
  LoginResponseSchema as AdminLoginResponseSchema,
  RefreshResponseSchema,
  LoginRequestSchema,
  RefreshRequestSchema,
  LogoutRequestSchema,
  WhoAmIResponseSchema,
} from '@fortress/proto/admin/v1/admin_pb';
import type { IdentityAdminService } from '@fortress/proto/identity/v1/identity_pb';
import type { AdminRoute } from './admin-api.js';
import { parseBody } from './parse-body.js';

const JSON_OUT = { useProtoFieldName: true } as const;

/**
 * Signing in and out of the admin API (`/api/v1/auth/…`): password login for a short-lived
 * access token and a rotating refresh token, refresh, logout. Identity does the work; a wrong
 * email or password is one generic 401.
 */
export function createSessionRoutes(deps: {
  identityAdmin: Client<typeof IdentityAdminService>;
  hopTimeoutMs: number;
}): AdminRoute[] {
  const opts = { timeoutMs: deps.hopTimeoutMs };
  return [
    {
      method: 'POST',
      path: '/auth/login',
      action: 'public',
      async handle({ body, facts }) {
        const req = parseBody(LoginRequestSchema, body);
        const r = await deps.identityAdmin.login(
          {
            orgId: req.orgId,
            email: req.email,
            password: req.password,
            totpCode: req.totpCode,
            context: {
              requestId: facts.requestId,
              clientIp: facts.clientIp,
              userAgent: facts.userAgent,
            },
          },
          opts,
        );
        const res = create(AdminLoginResponseSchema, {
          accessToken: r.accessToken,
          refreshToken: r.refreshToken,
          ...(r.accessExpiresAt ? { accessExpiresAt: r.accessExpiresAt } : {}),
        });
        return { status: 200, body: toJson(AdminLoginResponseSchema, res, JSON_OUT) };
      },
    },
    {
      method: 'POST',
      path: '/auth/refresh',
      action: 'public',
      async handle({ body }) {
        const req = parseBody(RefreshRequestSchema, body);
        const r = await deps.identityAdmin.refreshSession({ refreshToken: req.refreshToken }, opts);
        const res = create(RefreshResponseSchema, {
          accessToken: r.accessToken,
          refreshToken: r.refreshToken,
          ...(r.accessExpiresAt ? { accessExpiresAt: r.accessExpiresAt } : {}),
        });
        return { status: 200, body: toJson(RefreshResponseSchema, res, JSON_OUT) };
      },
    },
    {
      method: 'GET',
      path: '/auth/whoami',
      // Every admin role may read the org: whoever is signed in may see who they are.
      action: 'admin:org.read',
      handle({ admin }) {
        const res = create(WhoAmIResponseSchema, { principal: admin });
        return Promise.resolve({ status: 200, body: toJson(WhoAmIResponseSchema, res, JSON_OUT) });
      },
    },
    {
      method: 'POST',
      path: '/auth/logout',
      action: 'public',
      async handle({ body }) {
        const req = parseBody(LogoutRequestSchema, body);
        await deps.identityAdmin.logout({ refreshToken: req.refreshToken }, opts);
        return { status: 204 };
      },
    },
  ];
}
