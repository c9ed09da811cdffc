import { generateKeyPairSync } from 'node:crypto';
import { requireAllowed, requireEnabled } from './access.js';
import { sealBlob } from './ciphertext.js';
import { KmsError } from './errors.js';
import { checkGrantTokens, encryptionContext, requiredString } from './input.js';
import type { OperationHandler } from './operation-context.js';
import { refuseRecipient, stopIfDryRun } from './operation-context.js';
import type { JsonObject } from './wire.js';

/** Key pair specs this endpoint generates, with their Node curve names. */
const CURVES: Readonly<Record<string, string>> = {
  ECC_NIST_P256: 'prime256v1',
  ECC_NIST_P384: 'secp384r1',
  ECC_NIST_P521: 'secp521r1',
};

/**
 * GenerateDataKeyPair(WithoutPlaintext): a fresh elliptic-curve key pair whose private key
 * (PKCS#8 DER) is sealed under the KMS key with the encryption context, and whose public key is
 * returned as SPKI DER. Without plaintext, the caller never sees the private key: only a later
 * Decrypt of PrivateKeyCiphertextBlob (with the same context) releases it. RSA specs are
 * refused as unsupported locally.
 */
function generateDataKeyPair(withPlaintext: boolean): OperationHandler {
  const operation = withPlaintext ? 'GenerateDataKeyPair' : 'GenerateDataKeyPairWithoutPlaintext';
  return (input, { store, caller }) => {
    const keyRef = requiredString(input, 'KeyId');
    const spec = requiredString(input, 'KeyPairSpec', 32);
    const context = encryptionContext(input, 'EncryptionContext');
    checkGrantTokens(input);
    refuseRecipient(input);
    const curve = CURVES[spec];
    if (curve === undefined) {
      throw new KmsError(
        'UnsupportedOperationException',
        `KeyPairSpec '${spec}' is not supported locally; only ${Object.keys(CURVES).join(', ')}`,
      );
    }
    const key = store.resolve(keyRef);
    requireAllowed(store, caller, key, operation, context);
    requireEnabled(store, key);
    stopIfDryRun(input);
    const pair = generateKeyPairSync('ec', { namedCurve: curve });
    const privateDer = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    const output: JsonObject = {
      KeyId: store.arn(key.keyId),
      KeyPairSpec: spec,
      PublicKey: pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
      PrivateKeyCiphertextBlob: sealBlob(key.keyId, key.material, privateDer, context).toString(
        'base64',
      ),
    };
    if (withPlaintext) output['PrivateKeyPlaintext'] = privateDer.toString('base64');
    privateDer.fill(0);
    return output;
  };
}

/** Data key pair operations. */
export const KEY_PAIR_OPERATIONS: Readonly<Record<string, OperationHandler>> = {
  GenerateDataKeyPair: generateDataKeyPair(true),
  GenerateDataKeyPairWithoutPlaintext: generateDataKeyPair(false),
};
