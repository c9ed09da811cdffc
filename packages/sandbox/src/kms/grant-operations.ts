import { randomBytes } from 'node:crypto';
import { GRANT_OPERATIONS, requireNotPendingDeletion, requireOwner } from './access.js';
import { KmsError, validationError } from './errors.js';
import {
  checkGrantTokens,
  encryptionContext,
  optionalInteger,
  optionalString,
  requiredString,
  stringList,
} from './input.js';
import type { OperationHandler } from './operation-context.js';
import { epochSeconds, stopIfDryRun } from './operation-context.js';
import type { GrantConstraints, GrantRecord } from './records.js';
import type { JsonObject } from './wire.js';

const GRANT_ID = /^[0-9a-f]{64}$/;

function parseConstraints(input: JsonObject): GrantConstraints | undefined {
  const value = input['Constraints'];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new KmsError('SerializationException', `'Constraints' must be a structure`);
  }
  const raw = value as JsonObject;
  const has = (field: string): boolean => raw[field] !== undefined && raw[field] !== null;
  return {
    subset: has('EncryptionContextSubset')
      ? encryptionContext(raw, 'EncryptionContextSubset')
      : undefined,
    equals: has('EncryptionContextEquals')
      ? encryptionContext(raw, 'EncryptionContextEquals')
      : undefined,
  };
}

function constraintsJson(constraints: GrantConstraints | undefined): JsonObject | undefined {
  if (constraints === undefined) return undefined;
  return {
    EncryptionContextSubset: constraints.subset,
    EncryptionContextEquals: constraints.equals,
  };
}

/** The fields that make two grants "the same" for CreateGrant's Name-based idempotency. */
function grantShape(
  grant: Pick<
    GrantRecord,
    'name' | 'granteePrincipal' | 'retiringPrincipal' | 'operations' | 'constraints'
  >,
): string {
  return JSON.stringify([
    grant.name,
    grant.granteePrincipal,
    grant.retiringPrincipal,
    [...grant.operations].sort(),
    constraintsJson(grant.constraints),
  ]);
}

const createGrant: OperationHandler = async (input, { store, caller, now, commit }) => {
  const keyRef = requiredString(input, 'KeyId');
  const granteePrincipal = requiredString(input, 'GranteePrincipal', 256);
  const operations = stringList(input, 'Operations', GRANT_OPERATIONS.size);
  if (operations.length === 0) throw validationError('operations', 'Member must not be null');
  const unknown = operations.find((operation) => !GRANT_OPERATIONS.has(operation));
  if (unknown !== undefined) {
    throw validationError('operations', `Member must satisfy enum value set; got '${unknown}'`);
  }
  const requested = {
    name: optionalString(input, 'Name', 256),
    granteePrincipal,
    retiringPrincipal: optionalString(input, 'RetiringPrincipal', 256),
    operations: [...new Set(operations)],
    constraints: parseConstraints(input),
  };
  checkGrantTokens(input);
  const key = store.resolve(keyRef);
  // Only the owner creates grants: grants with the CreateGrant operation do not delegate here.
  requireOwner(caller, 'CreateGrant', store.arn(key.keyId));
  requireNotPendingDeletion(store, key);
  stopIfDryRun(input);
  const shape = grantShape(requested);
  const existing = store
    .grantsFor(key.keyId)
    .find((grant) => requested.name !== undefined && grantShape(grant) === shape);
  if (existing !== undefined) return { GrantId: existing.grantId, GrantToken: existing.grantToken };
  const grant: GrantRecord = {
    ...requested,
    keyId: key.keyId,
    grantId: randomBytes(32).toString('hex'),
    grantToken: randomBytes(96).toString('base64'),
    creationDate: now,
  };
  store.addGrant(grant);
  await commit();
  return { GrantId: grant.grantId, GrantToken: grant.grantToken };
};

const revokeGrant: OperationHandler = async (input, { store, caller, commit }) => {
  const key = store.resolve(requiredString(input, 'KeyId'));
  const grantId = requiredString(input, 'GrantId', 128);
  requireOwner(caller, 'RevokeGrant', store.arn(key.keyId));
  if (!GRANT_ID.test(grantId)) {
    throw new KmsError('InvalidGrantIdException', `Grant ID '${grantId}' is not valid`);
  }
  stopIfDryRun(input);
  if (!store.revokeGrant(key.keyId, grantId)) {
    throw new KmsError('NotFoundException', `Grant ID ${grantId} not found`);
  }
  await commit();
  return {};
};

const listGrants: OperationHandler = (input, { store, caller }) => {
  const key = store.resolve(requiredString(input, 'KeyId'));
  const limit = optionalInteger(input, 'Limit', 1, 100) ?? 50;
  const marker = optionalString(input, 'Marker', 1024);
  const grantId = optionalString(input, 'GrantId', 128);
  const grantee = optionalString(input, 'GranteePrincipal', 256);
  requireOwner(caller, 'ListGrants', store.arn(key.keyId));
  const start = marker === undefined ? 0 : Number(marker);
  if (!Number.isInteger(start) || start < 0) {
    throw new KmsError('InvalidMarkerException', `Marker '${marker ?? ''}' is not valid`);
  }
  const matching = store
    .grantsFor(key.keyId)
    .filter((grant) => grantId === undefined || grant.grantId === grantId)
    .filter((grant) => grantee === undefined || grant.granteePrincipal === grantee);
  const page = matching.slice(start, start + limit);
  const truncated = start + limit < matching.length;
  return {
    Grants: page.map((grant) => ({
      KeyId: store.arn(grant.keyId),
      GrantId: grant.grantId,
      Name: grant.name,
      CreationDate: epochSeconds(grant.creationDate),
      GranteePrincipal: grant.granteePrincipal,
      RetiringPrincipal: grant.retiringPrincipal,
      IssuingAccount: `arn:aws:iam::${store.accountId}:root`,
      Operations: grant.operations,
      Constraints: constraintsJson(grant.constraints),
    })),
    Truncated: truncated,
    NextMarker: truncated ? String(start + limit) : undefined,
  };
};

/** Grant operations: create, revoke, list. */
export const GRANT_OPERATION_HANDLERS: Readonly<Record<string, OperationHandler>> = {
  CreateGrant: createGrant,
  RevokeGrant: revokeGrant,
  ListGrants: listGrants,
};
