import { requireAllowed, requireNotPendingDeletion, requireOwner } from './access.js';
import { KmsError, keyNotFound } from './errors.js';
import {
  checkGrantTokens,
  flag,
  optionalInteger,
  optionalString,
  requiredString,
} from './input.js';
import type { KeyStore } from './key-store.js';
import type { OperationContext, OperationHandler } from './operation-context.js';
import { epochSeconds } from './operation-context.js';
import type { KeyRecord } from './records.js';
import type { JsonObject } from './wire.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const ALIAS_NAME = /^alias\/[a-zA-Z0-9/_-]{1,250}$/;

/** `KeyMetadata` of a key, with the fields AWS returns for a symmetric customer managed key. */
export function keyMetadata(store: KeyStore, key: KeyRecord): JsonObject {
  return {
    AWSAccountId: store.accountId,
    KeyId: key.keyId,
    Arn: store.arn(key.keyId),
    CreationDate: epochSeconds(key.creationDate),
    Enabled: key.state === 'Enabled',
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: key.state,
    DeletionDate: key.deletionDate === undefined ? undefined : epochSeconds(key.deletionDate),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  };
}

function requireValue(input: JsonObject, field: string, allowed: string): void {
  const value = optionalString(input, field, 64);
  if (value !== undefined && value !== allowed) {
    throw new KmsError(
      'UnsupportedOperationException',
      `${field} '${value}' is not supported locally; only ${allowed}`,
    );
  }
}

const createKey: OperationHandler = async (input, { store, caller, now, commit }) => {
  requireOwner(caller, 'CreateKey', '*');
  requireValue(input, 'KeyUsage', 'ENCRYPT_DECRYPT');
  requireValue(input, 'KeySpec', 'SYMMETRIC_DEFAULT');
  requireValue(input, 'CustomerMasterKeySpec', 'SYMMETRIC_DEFAULT');
  requireValue(input, 'Origin', 'AWS_KMS');
  if (flag(input, 'MultiRegion') || input['CustomKeyStoreId'] !== undefined) {
    throw new KmsError('UnsupportedOperationException', 'only single-region AWS_KMS keys');
  }
  // Policy and Tags are accepted and ignored: key policies are not evaluated here.
  const description = optionalString(input, 'Description', 8192) ?? '';
  const key = store.createKey(description, now);
  await commit();
  return { KeyMetadata: keyMetadata(store, key) };
};

const describeKey: OperationHandler = (input, { store, caller }) => {
  checkGrantTokens(input);
  const key = store.resolve(requiredString(input, 'KeyId'));
  requireAllowed(store, caller, key, 'DescribeKey', {});
  return { KeyMetadata: keyMetadata(store, key) };
};

async function changeState(
  input: JsonObject,
  { store, caller, commit }: OperationContext,
  operation: 'EnableKey' | 'DisableKey',
): Promise<JsonObject> {
  const key = store.resolve(requiredString(input, 'KeyId'));
  requireOwner(caller, operation, store.arn(key.keyId));
  requireNotPendingDeletion(store, key);
  key.state = operation === 'EnableKey' ? 'Enabled' : 'Disabled';
  await commit();
  return {};
}

const scheduleKeyDeletion: OperationHandler = async (input, { store, caller, now, commit }) => {
  const key = store.resolve(requiredString(input, 'KeyId'));
  const days = optionalInteger(input, 'PendingWindowInDays', 7, 30) ?? 30;
  requireOwner(caller, 'ScheduleKeyDeletion', store.arn(key.keyId));
  requireNotPendingDeletion(store, key);
  // The key is never actually deleted: it stays PendingDeletion (unusable) until cancelled.
  key.state = 'PendingDeletion';
  key.deletionDate = now + days * DAY_MS;
  await commit();
  return {
    KeyId: store.arn(key.keyId),
    DeletionDate: epochSeconds(key.deletionDate),
    KeyState: key.state,
    PendingWindowInDays: days,
  };
};

const cancelKeyDeletion: OperationHandler = async (input, { store, caller, commit }) => {
  const key = store.resolve(requiredString(input, 'KeyId'));
  requireOwner(caller, 'CancelKeyDeletion', store.arn(key.keyId));
  if (key.state !== 'PendingDeletion') {
    throw new KmsError(
      'KMSInvalidStateException',
      `${store.arn(key.keyId)} is not pending deletion.`,
    );
  }
  key.state = 'Disabled';
  key.deletionDate = undefined;
  await commit();
  return { KeyId: store.arn(key.keyId) };
};

const createAlias: OperationHandler = async (input, { store, caller, commit }) => {
  const aliasName = requiredString(input, 'AliasName', 256);
  const target = requiredString(input, 'TargetKeyId');
  if (!ALIAS_NAME.test(aliasName) || aliasName.startsWith('alias/aws/')) {
    throw new KmsError('InvalidAliasNameException', `Alias name '${aliasName}' is not valid`);
  }
  if (target.startsWith('alias/') || target.includes(':alias/')) throw keyNotFound(target);
  const key = store.resolve(target);
  requireOwner(caller, 'CreateAlias', store.aliasArn(aliasName));
  requireNotPendingDeletion(store, key);
  if (store.hasAlias(aliasName)) {
    throw new KmsError(
      'AlreadyExistsException',
      `An alias with the name ${store.aliasArn(aliasName)} already exists`,
    );
  }
  store.setAlias(aliasName, key.keyId);
  await commit();
  return {};
};

const deleteAlias: OperationHandler = async (input, { store, caller, commit }) => {
  const aliasName = requiredString(input, 'AliasName', 256);
  requireOwner(caller, 'DeleteAlias', store.aliasArn(aliasName));
  if (!store.deleteAlias(aliasName)) {
    throw new KmsError('NotFoundException', `Alias ${store.aliasArn(aliasName)} is not found.`);
  }
  await commit();
  return {};
};

/** Key lifecycle operations: create, describe, enable/disable, deletion, aliases. */
export const KEY_OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  CreateKey: createKey,
  DescribeKey: describeKey,
  EnableKey: (input, context) => changeState(input, context, 'EnableKey'),
  DisableKey: (input, context) => changeState(input, context, 'DisableKey'),
  ScheduleKeyDeletion: scheduleKeyDeletion,
  CancelKeyDeletion: cancelKeyDeletion,
  CreateAlias: createAlias,
  DeleteAlias: deleteAlias,
};
