/**
 * What `callTool` and `testConnection` share: finding the definition, resolving the instance,
 * starting the auth session, mapping thrown failures to outcomes, and scrubbing secrets from
 * whatever goes back.
 */
import type { AuthContext } from './auth/auth-context.js';
import { CredentialUnusable } from './auth/auth-context.js';
import { createAuthSession, type AuthSession } from './auth/auth-session.js';
import type { TokenCache } from './auth/token-cache.js';
import { connectorDefinition } from './catalog/index.js';
import { resolveInstance } from './instance-settings.js';
import { createSecretSet, type SecretSet } from './secret-scrub.js';
import type { ConnectorDefinition, ConnectorInstance, CredentialMaterial } from './types.js';
import type { CallFailure, VendorCall } from './vendor-call.js';
import { TransportError } from './vendor-http.js';

/** Options every executor entry point takes. */
export interface ExecutorOptions {
  instance: ConnectorInstance;
  credential: CredentialMaterial;
  /** Aborts the call; an abort whose reason is a `TimeoutError` comes back as `unavailable`. */
  signal: AbortSignal;
  /** The HTTP client; global fetch by default. */
  fetch?: typeof fetch;
  /** The clock (ms epoch) for token expiry; `Date.now` by default. */
  now?: () => number;
  /** Where minted installation/session tokens are kept between calls; none: mint per call. */
  tokenCache?: TokenCache;
}

/** A call ready to run, or the failure that prevents it. */
export type Prepared =
  | {
      ok: true;
      def: ConnectorDefinition;
      call: VendorCall;
      baseUrl: string;
      settings: Readonly<Record<string, string>>;
      secrets: SecretSet;
      session: AuthSession;
    }
  | { ok: false; failure: CallFailure; secrets: SecretSet; session?: undefined };

/** Headers sent on every request of a connector, with `{settings.x}` filled in. */
function staticHeaders(
  def: ConnectorDefinition,
  settings: Readonly<Record<string, string>>,
): Record<string, string> {
  const headers: Record<string, string> = {
    accept: 'application/json',
    'user-agent': 'fortress-gateway',
  };
  for (const [name, value] of Object.entries(def.headers ?? {})) {
    headers[name.toLowerCase()] = value.replace(
      /\{settings\.([A-Za-z0-9_]+)\}/g,
      (_m, key: string) => settings[key] ?? '',
    );
  }
  return headers;
}

/** Finds the connector, resolves the instance and starts the auth session. */
export function prepare(opts: ExecutorOptions): Prepared {
  const secrets = createSecretSet();
  const def = connectorDefinition(opts.instance.type);
  if (def === undefined) {
    return {
      ok: false,
      secrets,
      failure: { kind: 'unavailable', reason: `unknown connector type "${opts.instance.type}"` },
    };
  }
  const resolved = resolveInstance(def, opts.instance);
  if (!resolved.ok)
    return { ok: false, secrets, failure: { kind: 'unavailable', reason: resolved.reason } };
  const fetchFn = opts.fetch ?? globalThis.fetch;
  const ctx: AuthContext = {
    def,
    instance: resolved.instance,
    settings: resolved.settings,
    fetch: fetchFn,
    signal: opts.signal,
    now: opts.now ?? Date.now,
    tokenCache: opts.tokenCache,
    secrets,
  };
  let session: AuthSession;
  try {
    session = createAuthSession(ctx, opts.credential);
  } catch (err: unknown) {
    if (err instanceof CredentialUnusable)
      return { ok: false, secrets, failure: { kind: 'unavailable', reason: err.message } };
    throw err;
  }
  return {
    ok: true,
    def,
    baseUrl: resolved.instance.baseUrl,
    settings: resolved.settings,
    secrets,
    session,
    call: {
      def,
      session,
      headers: staticHeaders(def, resolved.settings),
      fetch: fetchFn,
      signal: opts.signal,
    },
  };
}

/**
 * The failure a thrown error means: transport trouble, an unusable credential or a timeout
 * make the connector unavailable. A cancellation by the caller is rethrown (nobody is waiting
 * for an outcome, and the connector did nothing wrong); anything else is a bug and rethrown.
 */
export function failureOf(err: unknown, title: string, signal: AbortSignal): CallFailure {
  if (err instanceof CredentialUnusable) return { kind: 'unavailable', reason: err.message };
  if (err instanceof TransportError)
    return { kind: 'unavailable', reason: `${title} could not be reached: ${err.message}` };
  if (signal.aborted && err === signal.reason) {
    if (err instanceof Error && err.name === 'TimeoutError') {
      return { kind: 'unavailable', reason: `${title} did not answer in time` };
    }
  }
  throw err;
}
