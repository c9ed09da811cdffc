import type { Caller } from './caller.js';
import { KmsError } from './errors.js';
import { flag } from './input.js';
import type { KeyStore } from './key-store.js';
import type { JsonObject } from './wire.js';

/** What an operation handler gets besides its input. */
export interface OperationContext {
  readonly store: KeyStore;
  readonly caller: Caller;
  /** Request time, epoch milliseconds. */
  readonly now: number;
  /** Persists the store after a change; resolves once the state file (if any) is durable. */
  readonly commit: () => Promise<void>;
}

/**
 * One KMS operation: request JSON to response JSON, failing with `KmsError`. Handlers that only
 * read the store return synchronously; the request path awaits the result either way.
 */
export type OperationHandler = (
  input: JsonObject,
  context: OperationContext,
) => JsonObject | Promise<JsonObject>;

/** Epoch seconds, the JSON 1.1 wire form of a timestamp. */
export function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}

/** Throws `DryRunOperationException` when the request set `DryRun` and would have succeeded. */
export function stopIfDryRun(input: JsonObject): void {
  if (flag(input, 'DryRun')) {
    throw new KmsError(
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  }
}

/** Refuses `Recipient` (Nitro Enclaves attestation), which this endpoint does not implement. */
export function refuseRecipient(input: JsonObject): void {
  if (input['Recipient'] !== undefined && input['Recipient'] !== null) {
    throw new KmsError('UnsupportedOperationException', 'Recipient is not supported locally');
  }
}
