/**
 * The AWS error shapes this endpoint sends. Real KMS answers client errors with HTTP 400 over
 * AWS JSON 1.1 (the 404/409 codes in the SDK model are query-compat codes, unused here) and
 * server faults with 500/503.
 */
const STATUS_BY_TYPE = {
  AccessDeniedException: 400,
  AlreadyExistsException: 400,
  DisabledException: 400,
  DryRunOperationException: 400,
  IncompleteSignatureException: 400,
  IncorrectKeyException: 400,
  InvalidAliasNameException: 400,
  InvalidCiphertextException: 400,
  InvalidGrantIdException: 400,
  InvalidKeyUsageException: 400,
  InvalidMarkerException: 400,
  InvalidSignatureException: 400,
  KMSInternalException: 500,
  KMSInvalidStateException: 400,
  MissingAuthenticationTokenException: 403,
  NotFoundException: 400,
  SerializationException: 400,
  ServiceUnavailableException: 503,
  ThrottlingException: 400,
  UnknownOperationException: 400,
  UnsupportedOperationException: 400,
  ValidationException: 400,
} as const;

/** Name of an AWS error this endpoint can send as `__type`. */
export type KmsErrorType = keyof typeof STATUS_BY_TYPE;

/** An error sent to the client as an AWS JSON 1.1 error body (`__type`, `message`). */
export class KmsError extends Error {
  override readonly name = 'KmsError';
  /** HTTP status sent with the error. */
  readonly status: number;

  /** Creates an error of the given AWS type with a message the client will see. */
  constructor(
    readonly type: KmsErrorType,
    message: string,
  ) {
    super(message);
    this.status = STATUS_BY_TYPE[type];
  }
}

/** A `ValidationException` in the "1 validation error detected" form AWS uses. */
export function validationError(field: string, constraint: string): KmsError {
  return new KmsError(
    'ValidationException',
    `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** The `NotFoundException` AWS sends for a key id, ARN or alias it cannot resolve. */
export function keyNotFound(keyId: string): KmsError {
  return new KmsError('NotFoundException', `Key '${keyId}' does not exist`);
}

/** The `AccessDeniedException` AWS sends when neither policy nor grant allows the action. */
export function accessDenied(principal: string, operation: string, resource: string): KmsError {
  return new KmsError(
    'AccessDeniedException',
    `User: ${principal} is not authorized to perform: kms:${operation} on resource: ${resource} ` +
      `because no resource-based policy allows the kms:${operation} action`,
  );
}

/** The `InvalidCiphertextException` for any blob that does not open; like AWS, it says no more. */
export function invalidCiphertext(): KmsError {
  return new KmsError('InvalidCiphertextException', 'the ciphertext is invalid');
}
