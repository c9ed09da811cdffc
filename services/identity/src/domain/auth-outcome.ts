import { create } from '@bufbuild/protobuf';
import { ReasonSchema, type Principal, type Reason } from '@fortress/proto/common/v1/common_pb';
import type { AuthFailure } from '@fortress/proto/identity/v1/identity_pb';

/** The result of authenticating a request: a principal, or a failure with a safe reason. */
export type AuthOutcome =
  | { ok: true; principal: Principal }
  | { ok: false; failure: AuthFailure; reason: Reason; orgId?: string };

/** A failed outcome of any kind. */
export type AuthRefusal = Extract<AuthOutcome, { ok: false }>;

/** A failed outcome with a safe reason; `orgId` when the org is known (to audit under it). */
export const authFailure = (
  failure: AuthFailure,
  code: string,
  message: string,
  orgId?: string,
): AuthRefusal => ({
  ok: false,
  failure,
  reason: create(ReasonSchema, { code, message, ruleId: 'identity' }),
  ...(orgId ? { orgId } : {}),
});
