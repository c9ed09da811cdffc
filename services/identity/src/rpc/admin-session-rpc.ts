import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import type { ServiceImpl } from '@connectrpc/connect';
import {
  CreateUserResponseSchema,
  LoginResponseSchema,
  LogoutResponseSchema,
  RefreshSessionResponseSchema,
  UserSchema,
  type IdentityAdminService,
} from '@fortress/proto/identity/v1/identity_pb';
import { AlreadyExistsError, NotFoundError } from '@fortress/kit/errors';
import { newId } from '@fortress/kit/ids';
import { requireId } from '@fortress/kit/validate';
import type { IdentityStore } from '../adapters/pg/identity-store.js';
import type { UserRow, UserStore } from '../adapters/pg/user-store.js';
import type { AdminSessions } from '../domain/admin-sessions.js';
import { requireAdminRoles, requireEmail } from '../domain/admin-user.js';
import { hashPassword, requirePassword } from '../domain/password.js';

const toUser = (r: UserRow) =>
  create(UserSchema, {
    id: r.id,
    orgId: r.org_id,
    email: r.email,
    roles: r.roles,
    disabled: r.disabled,
    createdAt: timestampFromDate(r.created_at),
  });

type AdminSessionMethods = 'createUser' | 'login' | 'refreshSession' | 'logout';

/**
 * The IdentityAdminService handlers for admin users and their sessions. A password goes in
 * and is never echoed; tokens come out only to the caller that earned them.
 */
export function createAdminSessionRpc(deps: {
  orgs: Pick<IdentityStore, 'getOrg'>;
  users: Pick<UserStore, 'createUser'>;
  sessions: AdminSessions;
}): Pick<ServiceImpl<typeof IdentityAdminService>, AdminSessionMethods> {
  const { orgs, users, sessions } = deps;
  return {
    async createUser(req) {
      const orgId = requireId('org_id', req.orgId, 'org');
      const email = requireEmail('email', req.email);
      const roles = requireAdminRoles('roles', req.roles);
      const password = requirePassword('password', req.password);
      if (!(await orgs.getOrg(orgId)))
        throw new NotFoundError('org_not_found', `org "${orgId}" does not exist`);
      const row = await users.createUser({
        id: newId('usr'),
        orgId,
        email,
        passwordHash: await hashPassword(password),
        roles,
      });
      if (!row)
        throw new AlreadyExistsError(
          'user_exists',
          `org "${orgId}" already has a user with email "${email}"`,
        );
      return create(CreateUserResponseSchema, { user: toUser(row) });
    },

    async login(req) {
      const issued = await sessions.login({
        orgId: req.orgId,
        email: req.email,
        password: req.password,
      });
      return create(LoginResponseSchema, {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        accessExpiresAt: timestampFromDate(issued.accessExpiresAt),
        principal: issued.principal,
      });
    },

    async refreshSession(req) {
      const issued = await sessions.refresh(req.refreshToken);
      return create(RefreshSessionResponseSchema, {
        accessToken: issued.accessToken,
        refreshToken: issued.refreshToken,
        accessExpiresAt: timestampFromDate(issued.accessExpiresAt),
      });
    },

    async logout(req) {
      await sessions.logout(req.refreshToken);
      return create(LogoutResponseSchema, {});
    },
  };
}
