/**
 * What the credential code needs from the call it serves, and how it says the credential
 * cannot be used. Kept apart so each auth scheme's file depends on this and not on the others.
 */
import type { SecretSet } from '../secret-scrub.js';
import type { ConnectorDefinition, ConnectorInstance, CredentialMaterial } from '../types.js';
import type { TokenCache } from './token-cache.js';

/** The call an auth scheme serves. */
export interface AuthContext {
  def: ConnectorDefinition;
  instance: ConnectorInstance;
  /** The instance settings with the definition's defaults applied. */
  settings: Readonly<Record<string, string>>;
  fetch: typeof fetch;
  signal: AbortSignal;
  now: () => number;
  tokenCache: TokenCache | undefined;
  secrets: SecretSet;
}

/** The credential cannot be used (refused, expired beyond refresh, malformed): OFFLINE. */
export class CredentialUnusable extends Error {
  override readonly name = 'CredentialUnusable';
}

/** A credential field as text ('' when absent). */
export function fieldText(material: CredentialMaterial, name: string): string {
  const value = material.fields[name];
  return value === undefined ? '' : new TextDecoder().decode(value);
}

/** The credential's secret as text. */
export function secretText(material: CredentialMaterial): string {
  return new TextDecoder().decode(material.secret);
}

/** Fields that name rather than prove: not scrubbed from results. */
const PUBLIC_FIELDS = new Set(['username', 'app_id', 'installation_id', 'client_id', 'expires_at']);

/** Registers every secret part of a credential with the call's secret set. */
export function registerSecrets(secrets: SecretSet, material: CredentialMaterial): void {
  secrets.add(secretText(material));
  for (const name of Object.keys(material.fields)) {
    if (!PUBLIC_FIELDS.has(name)) secrets.add(fieldText(material, name));
  }
}

/** The vendor's error code or message from an OAuth error body, for a reason string. */
export function oauthErrorOf(body: unknown): string {
  if (typeof body === 'object' && body !== null) {
    const record = body as Record<string, unknown>;
    const code = typeof record['error'] === 'string' ? record['error'] : undefined;
    const description =
      typeof record['error_description'] === 'string' ? record['error_description'] : undefined;
    if (code && description) return `${code} (${description})`;
    if (code) return code;
  }
  return 'no error code';
}
