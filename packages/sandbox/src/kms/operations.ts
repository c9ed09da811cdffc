import { CRYPTO_OPERATIONS } from './crypto-operations.js';
import { GRANT_OPERATION_HANDLERS } from './grant-operations.js';
import { KEY_OPERATIONS } from './key-operations.js';
import { KEY_PAIR_OPERATIONS } from './key-pair-operations.js';
import type { OperationHandler } from './operation-context.js';

/** Every operation this endpoint implements, keyed by its `x-amz-target` name. */
export const OPERATIONS: ReadonlyMap<string, OperationHandler> = new Map(
  Object.entries({
    ...KEY_OPERATIONS,
    ...CRYPTO_OPERATIONS,
    ...KEY_PAIR_OPERATIONS,
    ...GRANT_OPERATION_HANDLERS,
  }),
);

/** Names of the implemented operations (for validating fault filters). */
export const OPERATION_NAMES: ReadonlySet<string> = new Set(OPERATIONS.keys());
