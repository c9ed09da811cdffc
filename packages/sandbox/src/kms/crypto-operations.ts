import { randomBytes } from 'node:crypto';
import { requireAllowed, requireEnabled } from './access.js';
import { blobKeyId, openBlob, sealBlob } from './ciphertext.js';
import { KmsError, invalidCiphertext, validationError } from './errors.js';
import type { EncryptionContext } from './input.js';
import {
  MAX_CIPHERTEXT_BYTES,
  MAX_PLAINTEXT_BYTES,
  checkGrantTokens,
  checkSymmetricAlgorithm,
  encryptionContext,
  optionalInteger,
  optionalString,
  requiredBlob,
  requiredString,
} from './input.js';
import type { KeyStore } from './key-store.js';
import type { OperationHandler } from './operation-context.js';
import { refuseRecipient, stopIfDryRun } from './operation-context.js';
import type { KeyRecord } from './records.js';
import type { JsonObject } from './wire.js';

const ALGORITHM = 'SYMMETRIC_DEFAULT';
const KEY_SPEC_BYTES: Readonly<Record<string, number>> = { AES_256: 32, AES_128: 16 };

/**
 * The key a blob was sealed under. A blob naming a key this account does not have (another
 * server instance, or a modified key id) is `InvalidCiphertextException`; a `KeyId` in the
 * request that names a different key is `IncorrectKeyException`.
 */
function keyOfBlob(store: KeyStore, blob: Buffer, requested: string | undefined): KeyRecord {
  const named = requested === undefined ? undefined : store.resolve(requested);
  const blobKey = blobKeyId(blob);
  const key = blobKey === undefined ? undefined : store.byId(blobKey);
  if (key === undefined) throw invalidCiphertext();
  if (named !== undefined && named.keyId !== key.keyId) {
    throw new KmsError(
      'IncorrectKeyException',
      'The key ID in the request does not identify a KMS key that can perform this operation.',
    );
  }
  return key;
}

function open(key: KeyRecord, blob: Buffer, context: EncryptionContext): Buffer {
  const plaintext = openBlob(blob, key.material, context);
  if (plaintext === undefined) throw invalidCiphertext();
  return plaintext;
}

function dataKeyBytes(input: JsonObject): number {
  const keySpec = optionalString(input, 'KeySpec', 16);
  const numberOfBytes = optionalInteger(input, 'NumberOfBytes', 1, 1024);
  if ((keySpec === undefined) === (numberOfBytes === undefined)) {
    throw new KmsError('ValidationException', 'Specify exactly one of KeySpec or NumberOfBytes');
  }
  if (keySpec === undefined) return numberOfBytes ?? 0;
  const bytes = KEY_SPEC_BYTES[keySpec];
  if (bytes === undefined) {
    throw validationError('keySpec', 'Member must satisfy enum value set: [AES_256, AES_128]');
  }
  return bytes;
}

function generateDataKey(withPlaintext: boolean): OperationHandler {
  const operation = withPlaintext ? 'GenerateDataKey' : 'GenerateDataKeyWithoutPlaintext';
  return (input, { store, caller }) => {
    const keyRef = requiredString(input, 'KeyId');
    const context = encryptionContext(input, 'EncryptionContext');
    const bytes = dataKeyBytes(input);
    checkGrantTokens(input);
    refuseRecipient(input);
    const key = store.resolve(keyRef);
    requireAllowed(store, caller, key, operation, context);
    requireEnabled(store, key);
    stopIfDryRun(input);
    const dataKey = randomBytes(bytes);
    const output: JsonObject = {
      CiphertextBlob: sealBlob(key.keyId, key.material, dataKey, context).toString('base64'),
      KeyId: store.arn(key.keyId),
    };
    if (withPlaintext) output['Plaintext'] = dataKey.toString('base64');
    dataKey.fill(0);
    return output;
  };
}

const encrypt: OperationHandler = (input, { store, caller }) => {
  const keyRef = requiredString(input, 'KeyId');
  const plaintext = requiredBlob(input, 'Plaintext', MAX_PLAINTEXT_BYTES);
  const context = encryptionContext(input, 'EncryptionContext');
  checkGrantTokens(input);
  checkSymmetricAlgorithm(input, 'EncryptionAlgorithm');
  const key = store.resolve(keyRef);
  requireAllowed(store, caller, key, 'Encrypt', context);
  requireEnabled(store, key);
  stopIfDryRun(input);
  const blob = sealBlob(key.keyId, key.material, plaintext, context);
  plaintext.fill(0);
  return {
    CiphertextBlob: blob.toString('base64'),
    KeyId: store.arn(key.keyId),
    EncryptionAlgorithm: ALGORITHM,
  };
};

const decrypt: OperationHandler = (input, { store, caller }) => {
  const blob = requiredBlob(input, 'CiphertextBlob', MAX_CIPHERTEXT_BYTES);
  const context = encryptionContext(input, 'EncryptionContext');
  checkGrantTokens(input);
  checkSymmetricAlgorithm(input, 'EncryptionAlgorithm');
  refuseRecipient(input);
  const key = keyOfBlob(store, blob, optionalString(input, 'KeyId'));
  requireAllowed(store, caller, key, 'Decrypt', context);
  requireEnabled(store, key);
  stopIfDryRun(input);
  const plaintext = open(key, blob, context);
  const output = {
    KeyId: store.arn(key.keyId),
    Plaintext: plaintext.toString('base64'),
    EncryptionAlgorithm: ALGORITHM,
  };
  plaintext.fill(0);
  return output;
};

const reEncrypt: OperationHandler = (input, { store, caller }) => {
  const blob = requiredBlob(input, 'CiphertextBlob', MAX_CIPHERTEXT_BYTES);
  const sourceContext = encryptionContext(input, 'SourceEncryptionContext');
  const destinationRef = requiredString(input, 'DestinationKeyId');
  const destinationContext = encryptionContext(input, 'DestinationEncryptionContext');
  checkGrantTokens(input);
  checkSymmetricAlgorithm(input, 'SourceEncryptionAlgorithm');
  checkSymmetricAlgorithm(input, 'DestinationEncryptionAlgorithm');
  const source = keyOfBlob(store, blob, optionalString(input, 'SourceKeyId'));
  const destination = store.resolve(destinationRef);
  requireAllowed(store, caller, source, 'ReEncryptFrom', sourceContext);
  requireAllowed(store, caller, destination, 'ReEncryptTo', destinationContext);
  requireEnabled(store, source);
  requireEnabled(store, destination);
  stopIfDryRun(input);
  const plaintext = open(source, blob, sourceContext);
  const sealed = sealBlob(destination.keyId, destination.material, plaintext, destinationContext);
  plaintext.fill(0);
  return {
    CiphertextBlob: sealed.toString('base64'),
    SourceKeyId: store.arn(source.keyId),
    KeyId: store.arn(destination.keyId),
    SourceEncryptionAlgorithm: ALGORITHM,
    DestinationEncryptionAlgorithm: ALGORITHM,
  };
};

/** Cryptographic operations: data keys, encrypt, decrypt, re-encrypt. */
export const CRYPTO_OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  Encrypt: encrypt,
  Decrypt: decrypt,
  ReEncrypt: reEncrypt,
  GenerateDataKey: generateDataKey(true),
  GenerateDataKeyWithoutPlaintext: generateDataKey(false),
};
