import type { Caller } from './caller.js';
import { KmsError, accessDenied } from './errors.js';
import type { EncryptionContext } from './input.js';
import type { KeyStore } from './key-store.js';
import type { GrantConstraints, GrantRecord, KeyRecord } from './records.js';

/** Operations a grant may list, as AWS spells them in `CreateGrant.Operations`. */
export const GRANT_OPERATIONS: ReadonlySet<string> = new Set([
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
]);

function includesAll(context: EncryptionContext, required: EncryptionContext): boolean {
  return Object.entries(required).every(([key, value]) => context[key] === value);
}

/** Whether a request's encryption context satisfies a grant's constraints. */
export function constraintsHold(
  constraints: GrantConstraints | undefined,
  context: EncryptionContext,
): boolean {
  if (constraints === undefined) return true;
  const { subset, equals } = constraints;
  if (subset !== undefined && !includesAll(context, subset)) return false;
  if (equals !== undefined) {
    const sameSize = Object.keys(equals).length === Object.keys(context).length;
    if (!sameSize || !includesAll(context, equals)) return false;
  }
  return true;
}

/** Whether one grant lets the principal perform the operation with this context. */
export function grantAllows(
  grant: GrantRecord,
  principal: string,
  operation: string,
  context: EncryptionContext,
): boolean {
  return (
    grant.granteePrincipal === principal &&
    grant.operations.includes(operation) &&
    constraintsHold(grant.constraints, context)
  );
}

/** Whether the caller may perform a grantable operation on the key: owner, or via a grant. */
export function isAllowed(
  store: KeyStore,
  caller: Caller,
  key: KeyRecord,
  operation: string,
  context: EncryptionContext,
): boolean {
  if (caller.isOwner) return true;
  return store
    .grantsFor(key.keyId)
    .some((grant) => grantAllows(grant, caller.principal, operation, context));
}

/** Throws `AccessDeniedException` unless `isAllowed`. */
export function requireAllowed(
  store: KeyStore,
  caller: Caller,
  key: KeyRecord,
  operation: string,
  context: EncryptionContext,
): void {
  if (!isAllowed(store, caller, key, operation, context)) {
    throw accessDenied(caller.principal, operation, store.arn(key.keyId));
  }
}

/** Throws `AccessDeniedException` unless the caller is the account owner. */
export function requireOwner(caller: Caller, operation: string, resource: string): void {
  if (!caller.isOwner) throw accessDenied(caller.principal, operation, resource);
}

/** Throws `KMSInvalidStateException` when the key is pending deletion. */
export function requireNotPendingDeletion(store: KeyStore, key: KeyRecord): void {
  if (key.state === 'PendingDeletion') {
    throw new KmsError('KMSInvalidStateException', `${store.arn(key.keyId)} is pending deletion.`);
  }
}

/** Throws the AWS key-state error unless the key can be used for cryptography. */
export function requireEnabled(store: KeyStore, key: KeyRecord): void {
  if (key.state === 'Disabled') {
    throw new KmsError('DisabledException', `${store.arn(key.keyId)} is disabled.`);
  }
  requireNotPendingDeletion(store, key);
}
