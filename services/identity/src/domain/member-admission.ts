import { PrincipalKind } from '@fortress/proto/common/v1/common_pb';
import { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';
import { AlreadyExistsError } from '@fortress/kit/errors';
import type { MemberStore } from '../adapters/pg/member-store.js';
import { authFailure, type AuthRefusal } from './auth-outcome.js';
import type { IdpUser } from './idp-claims.js';
import { isSeatProduct, memberChangeEvent, type SeatProduct } from './member.js';

/** Admits an IdP-proved user as a member of their org, or refuses a deactivated one. */
export interface MemberAdmission {
  admit(
    orgId: string,
    user: IdpUser,
    keyProducts: readonly string[],
    now: Date,
  ): Promise<AuthRefusal | undefined>;
}

/**
 * Members from sign-in (just-in-time provisioning): a user the org's IdP vouches for, using an
 * org key of MCP or PAT Fortress, is a member holding a seat for the key's products — created
 * on first use, extended when they first use another product — so billing counts everyone who
 * uses a product. A member an admin deactivated is refused here, at every request, whatever
 * their IdP says. Each change is the member's own (actor USER) and goes out through the outbox.
 */
export function createMemberAdmission(deps: {
  members: Pick<MemberStore, 'admit'>;
  changed: (orgId: string) => void;
}): MemberAdmission {
  const once = (orgId: string, user: IdpUser, products: SeatProduct[], now: Date) =>
    deps.members.admit(
      orgId,
      user.userId,
      () => ({
        externalId: user.userId,
        email: user.email,
        displayName: '',
        products,
        active: true,
      }),
      products,
      now,
      (before, after) =>
        memberChangeEvent(
          orgId,
          { kind: PrincipalKind.USER, subjectId: user.userId, email: user.email, approvedBy: '' },
          before,
          after,
          now,
        ),
    );
  return {
    async admit(orgId, user, keyProducts, now) {
      const products = [...new Set(keyProducts.filter(isSeatProduct))].sort();
      let admitted;
      try {
        admitted = await once(orgId, user, products, now);
      } catch (err) {
        // Two first requests at once: the other one created the member; take it.
        if (!(err instanceof AlreadyExistsError)) throw err;
        admitted = await once(orgId, user, products, now);
      }
      if (admitted.changed) deps.changed(orgId);
      if (admitted.member.active) return undefined;
      return authFailure(
        AuthFailure.REVOKED,
        'member_deactivated',
        'this user has been deactivated in the organisation',
        orgId,
      );
    },
  };
}
