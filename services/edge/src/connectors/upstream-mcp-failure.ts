import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';
import { CredentialInjectionError } from './upstream-mcp-credential.js';

/** What a failed upstream exchange means for the caller and for the cached connection. */
export interface Failure {
  /** Lowercase, stable, and built only from fixed text, status codes and error codes. */
  readonly reason: string;
  /**
   * The upstream may have lost our session: HTTP 404 (the spec's answer) or 400 (what servers
   * built on the v1 SDK's documented wiring answer) to a request that carried one. Both are
   * refusals before dispatch, so a new session may retry the request.
   */
  readonly sessionLost: boolean;
  /** The connection still works (e.g. a JSON-RPC error answer), so it stays cached. */
  readonly connectionUsable: boolean;
}

/** Node and undici codes for a peer that cannot be reached; other codes are not quoted. */
const NETWORK_CODE = /^(E[A-Z]+|UND_ERR_[A-Z_]+)$/;

function networkCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODE.test(code)) return code;
  }
  return undefined;
}

function timedOut(error: unknown): boolean {
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

const fail = (reason: string, sessionLost = false, connectionUsable = false): Failure => ({
  reason,
  sessionLost,
  connectionUsable,
});

/**
 * Classifies an error from the SDK client. The error's own message is never used: SDK messages
 * quote upstream response bodies, and an upstream may echo what it was sent.
 */
export function classifyFailure(error: unknown, signal: AbortSignal, hadSession: boolean): Failure {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    return fail(
      reason instanceof Error && reason.name === 'TimeoutError'
        ? 'upstream timed out'
        : 'request cancelled',
    );
  }
  if (error instanceof CredentialInjectionError) return fail(error.message);
  if (error instanceof SdkHttpError) {
    const status = error.status;
    if (status === 401) return fail('upstream rejected the credential (http 401)');
    if (status === 403) return fail('upstream denied access (http 403)');
    if (status === 404 && hadSession) return fail('upstream session expired (http 404)', true);
    return fail(`upstream answered http ${status}`, status === 400 && hadSession);
  }
  if (error instanceof ProtocolError) {
    // Raised by the SDK itself when a result contradicts the tool's declared outputSchema.
    if (/output schema|outputSchema|structured content/i.test(error.message)) {
      return fail('upstream result does not match its output schema', false, true);
    }
    return fail(`upstream answered json-rpc error ${error.code}`, false, true);
  }
  if (error instanceof SdkError) {
    const code = networkCode(error);
    if (code !== undefined) return fail(`upstream unreachable (${code.toLowerCase()})`);
    switch (error.code) {
      case SdkErrorCode.RequestTimeout:
        return fail('upstream timed out');
      case SdkErrorCode.ConnectionClosed:
        return fail('upstream closed the connection');
      case SdkErrorCode.EraNegotiationFailed:
        return fail('upstream did not complete the mcp handshake');
      case SdkErrorCode.UnsupportedResultType:
        return fail(
          'upstream asked for input mid-call, which federation does not relay',
          false,
          true,
        );
      case SdkErrorCode.ListPaginationExceeded:
        return fail('upstream tools/list pagination did not end', false, true);
      default:
        return fail(`upstream broke the protocol (${error.code.toLowerCase()})`);
    }
  }
  const code = networkCode(error);
  if (code !== undefined) return fail(`upstream unreachable (${code.toLowerCase()})`);
  if (timedOut(error)) return fail('upstream timed out');
  if (error instanceof TypeError) return fail('upstream unreachable');
  if (error instanceof SyntaxError) return fail('upstream sent malformed json');
  return fail('upstream failed');
}

/** Replaces any occurrence of the given secrets in `text`; a last guard, not the first. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  return out;
}
