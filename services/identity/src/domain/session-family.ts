import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  PrincipalKind,
  PrincipalSchema,
  Product,
  type Principal,
} from '@fortress/proto/common/v1/common_pb';
import { tierFromName } from '@fortress/kit/enum-names';
import type { SessionFamily } from '../adapters/pg/session-store.js';

/** Why a session family may no longer be used, if it may not. */
export type FamilyProblem =
  'session_revoked' | 'session_expired' | 'org_disabled' | 'user_disabled';

/** The first reason a family may not be used at `now`; undefined when it may. */
export function familyProblem(family: SessionFamily, now: Date): FamilyProblem | undefined {
  if (family.revokedAt) return 'session_revoked';
  if (family.expiresAt.getTime() <= now.getTime()) return 'session_expired';
  if (family.orgDisabled) return 'org_disabled';
  if (family.userDisabled) return 'user_disabled';
  return undefined;
}

/**
 * The ADMIN principal of a session, from the stored user and org (not from token claims), so
 * a role change takes effect on the next call.
 */
export function adminPrincipal(family: SessionFamily, authenticatedAt: Date): Principal {
  return create(PrincipalSchema, {
    orgId: family.orgId,
    tier: tierFromName(family.tier),
    kind: PrincipalKind.ADMIN,
    subjectId: family.userId,
    userId: family.userId,
    email: family.email,
    roles: family.roles,
    products: [Product.ADMIN],
    sessionId: family.sessionId,
    authenticatedAt: timestampFromDate(authenticatedAt),
  });
}
