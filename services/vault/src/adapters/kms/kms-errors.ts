import { FailedPreconditionError, UnavailableError, type DomainError } from '@fortress/kit/errors';

/**
 * Maps a failed KMS call to a domain error with a stable reason and a message that names the
 * failure and nothing else (no key ids, no account ids, no material):
 * - the org's key refused us (grant revoked, key disabled or gone): FAILED_PRECONDITION, an
 *   operator or the customer must act;
 * - KMS throttled, timed out or is unreachable: UNAVAILABLE, the caller fails closed and may
 *   retry later.
 */
export function kmsError(err: unknown, timedOut: boolean): DomainError {
  const name = err instanceof Error ? err.name : '';
  const options = { cause: err };
  switch (name) {
    case 'AccessDeniedException':
      return new FailedPreconditionError(
        'kms_access_denied',
        "the org's KMS key refused the vault (grant missing or revoked)",
        options,
      );
    case 'DisabledException':
    case 'KMSInvalidStateException':
      return new FailedPreconditionError(
        'kms_key_disabled',
        "the org's KMS key is disabled or pending deletion",
        options,
      );
    case 'NotFoundException':
      return new FailedPreconditionError(
        'kms_key_not_found',
        "the org's KMS key does not exist",
        options,
      );
    case 'InvalidCiphertextException':
    case 'IncorrectKeyException':
      return new FailedPreconditionError(
        'kms_ciphertext_invalid',
        'KMS refused a wrapped data key as not its own (integrity check failed)',
        options,
      );
    case 'ThrottlingException':
      return new UnavailableError(
        'kms_throttled',
        'the key management service is throttling',
        options,
      );
  }
  if (timedOut)
    return new UnavailableError(
      'kms_timeout',
      'the key management service did not answer in time',
      options,
    );
  return new UnavailableError(
    'kms_unavailable',
    'the key management service did not answer',
    options,
  );
}
