import { Code, ConnectError } from '@connectrpc/connect';

/**
 * The closed set of domain errors. Each carries a stable `reason` (snake_case) that callers
 * may branch on, and a message that is safe to send to the caller: lowercase, specific, never
 * containing a secret. Anything else thrown inside a service is an internal error whose
 * details are logged, not sent.
 */
export abstract class DomainError extends Error {
  /** The gRPC code this error maps to at the boundary. */
  abstract readonly code: Code;
  /** Creates an error with a stable reason and a safe message. */
  constructor(
    readonly reason: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is malformed; `field` names the offending field. */
export class InvalidArgumentError extends DomainError {
  readonly code = Code.InvalidArgument;
  /** Creates an invalid-argument error naming the field. */
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('invalid_argument', message);
  }
}

/** The named object does not exist (or is not visible to this tenant). */
export class NotFoundError extends DomainError {
  readonly code = Code.NotFound;
}

/** The object already exists. */
export class AlreadyExistsError extends DomainError {
  readonly code = Code.AlreadyExists;
}

/** The caller is known but may not do this. */
export class PermissionDeniedError extends DomainError {
  readonly code = Code.PermissionDenied;
}

/** The caller did not prove who it is. */
export class UnauthenticatedError extends DomainError {
  readonly code = Code.Unauthenticated;
}

/** The system is not in a state that allows this (e.g. a revoked credential). */
export class FailedPreconditionError extends DomainError {
  readonly code = Code.FailedPrecondition;
}

/** A dependency needed to answer is unavailable; callers fail closed. */
export class UnavailableError extends DomainError {
  readonly code = Code.Unavailable;
}

/** A quota or rate limit is exhausted. */
export class ResourceExhaustedError extends DomainError {
  readonly code = Code.ResourceExhausted;
}

/**
 * Maps any thrown value to a ConnectError that is safe to send: domain errors keep their code,
 * reason and message; ConnectErrors pass through; anything else becomes a bare Internal.
 */
export function toConnectError(err: unknown): ConnectError {
  if (err instanceof DomainError) {
    const ce = new ConnectError(err.message, err.code);
    ce.metadata.set('fortress-reason', err.reason);
    if (err instanceof InvalidArgumentError) ce.metadata.set('fortress-field', err.field);
    return ce;
  }
  if (err instanceof ConnectError) return err;
  return new ConnectError('internal error', Code.Internal);
}

/** The stable reason a remote service attached to an error, if any. */
export function remoteReason(err: ConnectError): string | undefined {
  return err.metadata.get('fortress-reason') ?? undefined;
}
