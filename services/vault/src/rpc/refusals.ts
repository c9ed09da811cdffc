import {
  FailedPreconditionError,
  NotFoundError,
  PermissionDeniedError,
  type DomainError,
} from '@fortress/kit/errors';
import type { TokenRefusal } from '@fortress/kit/decision-token';
import { clip } from '@fortress/kit/validate';
import type { VersionRefusal } from '../domain/credential-versions.js';
import type { SessionRefusal } from '../domain/sessions.js';

const MESSAGES: Record<VersionRefusal | SessionRefusal, string> = {
  credential_not_found: 'does not exist',
  credential_version_retired: 'was rotated out: its overlap window has ended',
  credential_expired: 'has expired',
  credential_revoked: 'was revoked',
  session_required: 'belongs to a Zero Trust org: a live vault session is required',
  session_not_found: 'needs a live vault session; this one is closed or unknown here',
  session_expired: 'needs a live vault session; this one has expired',
  session_wrong_principal: 'needs a vault session opened for this org and principal',
};

/** The error a refused resolution becomes at the boundary, with its stable reason. */
export function refusalError(
  refusal: VersionRefusal | SessionRefusal,
  credentialRef: string,
  version: number,
): DomainError {
  const what = `credential "${clip(credentialRef)}"${version ? ` version ${version}` : ''}`;
  const message = `${what} ${MESSAGES[refusal]}`;
  if (refusal === 'credential_not_found') return new NotFoundError(refusal, message);
  if (refusal.startsWith('session_')) return new PermissionDeniedError(refusal, message);
  return new FailedPreconditionError(refusal, message);
}

/** The error a refused decision token becomes. */
export function tokenError(refusal: TokenRefusal): DomainError {
  return new PermissionDeniedError(
    `decision_token_${refusal}`,
    `the decision token is ${refusal.replace('_', ' ')}`,
  );
}
