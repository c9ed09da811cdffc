/**
 * Structured logger the endpoint reports to (pino-compatible argument order). The endpoint logs
 * nothing without one, and never logs request bodies, plaintext, data keys or key material.
 */
export interface KmsLogger {
  /** One line per handled request: operation, status, error type, request id, duration. */
  info(fields: Record<string, unknown>, message: string): void;
  /** Unexpected failures, with the error message but never request data. */
  error(fields: Record<string, unknown>, message: string): void;
}
